/// A two-sided confidence interval around an estimate.
public struct ConfidenceInterval: Equatable, Sendable {
    public let lower: Double
    public let upper: Double
    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }
    /// Both ends finite (Prism prints "very wide" otherwise).
    public var isBounded: Bool { lower.isFinite && upper.isFinite }
}
