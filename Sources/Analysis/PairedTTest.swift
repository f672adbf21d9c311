/// Paired t-test (two-sided): is the mean of the differences d = first − second zero?
/// t = d̄ / (s_d/√n) with n − 1 degrees of freedom, as scipy.stats.ttest_rel. On count-matched
/// tiles this is the calibrated companion of the paper's KS test (docs/analysis.md, Clustering).
public struct PairedTTest: Equatable, Sendable {
    /// Number of pairs.
    public let count: Int
    /// d̄ (positive: the first sample is larger).
    public let meanDifference: Double
    /// s_d/√n, with s_d the sample standard deviation of d.
    public let standardError: Double
    public let t: Double
    public let degreesOfFreedom: Int
    public let pValue: Double

    /// Throws for fewer than two pairs, samples of different lengths, a non-finite value, or
    /// differences that are all equal (no scatter: t is undefined).
    public static func test(_ first: [Double], _ second: [Double]) throws -> PairedTTest {
        guard first.count == second.count else {
            throw StatisticsError("paired t-test: \(first.count) values paired with \(second.count)")
        }
        guard first.count >= 2 else { throw StatisticsError("paired t-test needs at least two pairs, got \(first.count)") }
        let d = zip(first, second).map { $0 - $1 }
        guard d.allSatisfy(\.isFinite) else { throw StatisticsError("paired t-test: a value is not finite") }
        let n = d.count
        let mean = try Statistics.mean(d)
        let sd = try Statistics.standardDeviation(d)
        guard sd > 0 else { throw StatisticsError("paired t-test is undefined: the \(n) differences are all \(mean)") }
        let se = sd / Double(n).squareRoot()
        let t = mean / se
        let p = StudentT(degreesOfFreedom: Double(n - 1))!.twoSidedPValue(t)
        return PairedTTest(count: n, meanDifference: mean, standardError: se, t: t, degreesOfFreedom: n - 1, pValue: p)
    }
}
