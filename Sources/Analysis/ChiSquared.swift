import Foundation

/// The χ² distribution with k > 0 degrees of freedom: P(X ≤ x) = P(k/2, x/2).
public struct ChiSquared: Sendable {
    public let degreesOfFreedom: Double

    /// nil unless k is positive and finite.
    public init?(degreesOfFreedom: Double) {
        guard degreesOfFreedom > 0, degreesOfFreedom.isFinite else { return nil }
        self.degreesOfFreedom = degreesOfFreedom
    }

    /// P(X ≤ x); 0 for x ≤ 0.
    public func cdf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 0 }
        return IncompleteGamma.lower(a: degreesOfFreedom / 2, x: x / 2)!
    }

    /// P(X > x), the p-value of a χ² statistic, with relative precision in the tail.
    public func sf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        return IncompleteGamma.upper(a: degreesOfFreedom / 2, x: x / 2)!
    }
}
