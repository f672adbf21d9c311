/// The p-values of a test repeated over resamplings, and the summaries a report gives of them
/// (the paper lists every p and their range and mean).
public struct PValueSummary: Equatable, Sendable {
    public let pValues: [Double]
    public let alpha: Double
    /// numpy's median (the mean of the two middle values for an even count).
    public let median: Double
    public let mean: Double
    public let minimum: Double
    public let maximum: Double
    /// The fraction of p below α.
    public let fractionBelowAlpha: Double

    /// Throws for no p-value, one outside [0, 1], or α outside (0, 1).
    public init(_ pValues: [Double], alpha: Double) throws {
        guard !pValues.isEmpty else { throw StatisticsError("p-value summary: no p-values") }
        guard pValues.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw StatisticsError("p-value summary: a p-value is outside [0, 1]")
        }
        guard alpha > 0, alpha < 1 else { throw StatisticsError("p-value summary: α = \(alpha) is outside (0, 1)") }
        self.pValues = pValues
        self.alpha = alpha
        median = try Statistics.median(pValues)
        mean = try Statistics.mean(pValues)
        minimum = pValues.min()!
        maximum = pValues.max()!
        fractionBelowAlpha = Double(pValues.filter { $0 < alpha }.count) / Double(pValues.count)
    }
}
