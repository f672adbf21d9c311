/// The paper's normalisation of a dose-response dataset (Prism's "Normalize"): 0 % = the smallest
/// mean and 100 % = the largest mean over every dose of every group given, so that groups keep
/// their relative heights. Means, not single wells, set the scale (replicate noise does not).
public struct PercentNormalization: Equatable, Sendable {
    public let zero: Double
    public let hundred: Double

    /// The scale set by the dose means of all `groups` (vehicle excluded: it is not a point of the
    /// curve). Throws when there are no points or all means are equal.
    public init(groups: [DoseResponseData]) throws {
        try self.init(means: groups.flatMap { $0.doseMeans.map(\.mean) })
    }

    /// The scale from a list of means. Throws when it is empty or constant.
    public init(means: [Double]) throws {
        guard let low = means.min(), let high = means.max() else {
            throw StatisticsError("normalisation: no dose means")
        }
        guard high > low else { throw StatisticsError("normalisation: every dose mean is \(low)") }
        zero = low
        hundred = high
    }

    public func apply(_ y: Double) -> Double { 100 * (y - zero) / (hundred - zero) }

    public func apply(_ data: DoseResponseData) -> DoseResponseData { data.mapResponses(apply) }
}
