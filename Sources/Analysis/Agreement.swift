import Foundation

/// Agreement of predicted with reference (manual) values: error sizes and the Bland–Altman analysis
/// of the differences d = predicted − manual (Bland & Altman 1986).
public struct Agreement: Equatable, Sendable {
    /// Number of pairs.
    public let n: Int
    /// Mean |d|.
    public let meanAbsoluteError: Double
    /// Mean d, the Bland–Altman bias (positive: predictions count more than the annotators).
    public let bias: Double
    /// Sample standard deviation of d (n − 1 in the denominator); nil for one pair.
    public let sdOfDifferences: Double?
    /// 95 % limits of agreement, bias ± 1.96·sd (Bland–Altman's own constant); nil for one pair.
    public let lowerLimit: Double?
    public let upperLimit: Double?
    /// 95 % CI of the bias, bias ± t(0.975, n−1)·sd/√n; nil for one pair.
    public let biasLower95: Double?
    public let biasUpper95: Double?
    /// Mean of the manual values and of the predictions.
    public let manualMean: Double
    public let predictedMean: Double

    /// Mean error: the same number as `bias`, under the name error tables use.
    public var meanError: Double { bias }

    /// MAE as a percentage of the mean manual value; nil when that mean is 0.
    public var meanAbsoluteErrorPercent: Double? {
        manualMean == 0 ? nil : 100 * meanAbsoluteError / manualMean
    }

    /// Bland–Altman's multiplier for the limits of agreement.
    public static let limitsMultiplier = 1.96

    /// Throws when there is no pair, the lengths differ or a value is not finite.
    public static func of(predicted: [Double], manual: [Double]) throws -> Agreement {
        guard predicted.count == manual.count else {
            throw StatisticsError("agreement is undefined: \(predicted.count) predictions paired with \(manual.count) manual values")
        }
        let n = predicted.count
        guard n > 0 else { throw StatisticsError("agreement is undefined: no pairs") }
        guard predicted.allSatisfy(\.isFinite), manual.allSatisfy(\.isFinite) else {
            throw StatisticsError("agreement is undefined: a value is not finite")
        }
        let d = zip(predicted, manual).map { $0 - $1 }
        let count = Double(n)
        let bias = d.reduce(0, +) / count
        let mae = d.reduce(0) { $0 + abs($1) } / count
        var sd: Double?, lower: Double?, upper: Double?, biasLower: Double?, biasUpper: Double?
        if n >= 2 {
            let s = (d.reduce(0) { $0 + ($1 - bias) * ($1 - bias) } / (count - 1)).squareRoot()
            sd = s
            lower = bias - limitsMultiplier * s
            upper = bias + limitsMultiplier * s
            let t = StudentT(degreesOfFreedom: count - 1)!.quantile(0.975)!
            biasLower = bias - t * s / count.squareRoot()
            biasUpper = bias + t * s / count.squareRoot()
        }
        return Agreement(n: n, meanAbsoluteError: mae, bias: bias, sdOfDifferences: sd,
                         lowerLimit: lower, upperLimit: upper, biasLower95: biasLower, biasUpper95: biasUpper,
                         manualMean: manual.reduce(0, +) / count, predictedMean: predicted.reduce(0, +) / count)
    }

    public static func of(predicted: [Int], manual: [Int]) throws -> Agreement {
        try of(predicted: predicted.map(Double.init), manual: manual.map(Double.init))
    }
}
