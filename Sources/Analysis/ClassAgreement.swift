import Foundation

/// Correlation and agreement of predicted with manual counts for one class (keys in `CountReport`).
public struct ClassAgreement: Codable, Equatable, Sendable {
    public var className: String
    public var n: Int
    public var pearsonR: Double?
    public var rLower95: Double?
    public var rUpper95: Double?
    public var pValue: Double?
    public var rUndefinedReason: String?
    public var meanAbsoluteError: Double
    public var meanAbsoluteErrorPercent: Double?
    public var bias: Double
    public var sdOfDifferences: Double?
    public var lowerLimit: Double?
    public var upperLimit: Double?
    public var biasLower95: Double?
    public var biasUpper95: Double?
    public var manualMean: Double
    public var predictedMean: Double

    /// Statistics of one class over the images compared (same order in both arrays, at least one).
    public init(className: String, predicted: [Int], manual: [Int]) throws {
        let agreement = try Agreement.of(predicted: predicted, manual: manual)
        self.className = className
        n = agreement.n
        do {
            let c = try Correlation.pearson(predicted, manual)
            pearsonR = c.r; rLower95 = c.lower95; rUpper95 = c.upper95; pValue = c.pValue
        } catch let error as StatisticsError {
            rUndefinedReason = error.problem
        }
        meanAbsoluteError = agreement.meanAbsoluteError
        meanAbsoluteErrorPercent = agreement.meanAbsoluteErrorPercent
        bias = agreement.bias
        sdOfDifferences = agreement.sdOfDifferences
        lowerLimit = agreement.lowerLimit; upperLimit = agreement.upperLimit
        biasLower95 = agreement.biasLower95; biasUpper95 = agreement.biasUpper95
        manualMean = agreement.manualMean; predictedMean = agreement.predictedMean
    }

    enum CodingKeys: String, CodingKey {
        case className = "class", n, pearsonR = "pearson_r", rLower95 = "r_ci95_low", rUpper95 = "r_ci95_high"
        case pValue = "p_value", rUndefinedReason = "r_undefined_reason"
        case meanAbsoluteError = "mae", meanAbsoluteErrorPercent = "mae_percent", bias
        case sdOfDifferences = "sd_differences", lowerLimit = "loa_low", upperLimit = "loa_high"
        case biasLower95 = "bias_ci95_low", biasUpper95 = "bias_ci95_high"
        case manualMean = "manual_mean", predictedMean = "predicted_mean"
    }

    /// Undefined statistics are written as null (the synthesised encoder would drop the key).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(className, forKey: .className)
        try c.encode(n, forKey: .n)
        try c.encode(pearsonR, forKey: .pearsonR)
        try c.encode(rLower95, forKey: .rLower95)
        try c.encode(rUpper95, forKey: .rUpper95)
        try c.encode(pValue, forKey: .pValue)
        try c.encode(rUndefinedReason, forKey: .rUndefinedReason)
        try c.encode(meanAbsoluteError, forKey: .meanAbsoluteError)
        try c.encode(meanAbsoluteErrorPercent, forKey: .meanAbsoluteErrorPercent)
        try c.encode(bias, forKey: .bias)
        try c.encode(sdOfDifferences, forKey: .sdOfDifferences)
        try c.encode(lowerLimit, forKey: .lowerLimit)
        try c.encode(upperLimit, forKey: .upperLimit)
        try c.encode(biasLower95, forKey: .biasLower95)
        try c.encode(biasUpper95, forKey: .biasUpper95)
        try c.encode(manualMean, forKey: .manualMean)
        try c.encode(predictedMean, forKey: .predictedMean)
    }
}
