import Foundation

/// Fisher's F distribution with (d1, d2) degrees of freedom, through the incomplete beta function:
/// P(F > f) = I_{d2/(d2 + d1 f)}(d2/2, d1/2).
public struct FDistribution: Sendable {
    public let numeratorDegreesOfFreedom: Double
    public let denominatorDegreesOfFreedom: Double

    /// nil unless both degrees of freedom are positive and finite.
    public init?(numerator d1: Double, denominator d2: Double) {
        guard d1 > 0, d2 > 0, d1.isFinite, d2.isFinite else { return nil }
        numeratorDegreesOfFreedom = d1
        denominatorDegreesOfFreedom = d2
    }

    /// P(F > f): the p-value of an F statistic, with relative precision in the tail.
    public func sf(_ f: Double) -> Double {
        if f.isNaN { return .nan }
        if f <= 0 { return 1 }
        if f.isInfinite { return 0 }
        let d1 = numeratorDegreesOfFreedom, d2 = denominatorDegreesOfFreedom
        // x = d2/(d2 + d1 f) and 1 − x = d1 f/(d2 + d1 f), both formed without cancellation.
        let s = d2 + d1 * f
        return IncompleteBeta.regularized(a: d2 / 2, b: d1 / 2, x: d2 / s, oneMinusX: d1 * f / s)
    }

    /// P(F ≤ f) = I_{d1 f/(d1 f + d2)}(d1/2, d2/2), with relative precision in the lower tail.
    public func cdf(_ f: Double) -> Double {
        if f.isNaN { return .nan }
        if f <= 0 { return 0 }
        if f.isInfinite { return 1 }
        let d1 = numeratorDegreesOfFreedom, d2 = denominatorDegreesOfFreedom
        let s = d2 + d1 * f
        return IncompleteBeta.regularized(a: d1 / 2, b: d2 / 2, x: d1 * f / s, oneMinusX: d2 / s)
    }
}
