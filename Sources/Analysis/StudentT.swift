import Foundation

/// Student's t distribution with `degreesOfFreedom` ν > 0, through the incomplete beta function:
/// P(|T| > |t|) = I_{ν/(ν+t²)}(ν/2, 1/2).
public struct StudentT: Sendable {
    public let degreesOfFreedom: Double

    /// nil unless ν is positive and finite.
    public init?(degreesOfFreedom: Double) {
        guard degreesOfFreedom > 0, degreesOfFreedom.isFinite else { return nil }
        self.degreesOfFreedom = degreesOfFreedom
    }

    /// P(|T| ≥ |t|): the two-sided p-value of a t statistic.
    public func twoSidedPValue(_ t: Double) -> Double {
        if t.isNaN { return .nan }
        if t.isInfinite { return 0 }
        let nu = degreesOfFreedom, t2 = t * t
        // x = ν/(ν+t²) and 1 − x = t²/(ν+t²), both formed without cancellation.
        return IncompleteBeta.regularized(a: nu / 2, b: 0.5, x: nu / (nu + t2), oneMinusX: t2 / (nu + t2))
    }

    /// P(T ≤ t).
    public func cdf(_ t: Double) -> Double {
        let tail = twoSidedPValue(t) / 2
        return t < 0 ? tail : 1 - tail
    }

    /// P(T > t) = cdf(−t), with relative precision in the upper tail.
    public func sf(_ t: Double) -> Double { cdf(-t) }

    /// The t with P(T ≤ t) = p, for 0 < p < 1 (nil otherwise): bisection on the CDF, which is
    /// monotone, to the last bits of a Double (scipy.stats.t.ppf agrees to ~1e-12).
    public func quantile(_ p: Double) -> Double? {
        guard p > 0, p < 1 else { return nil }
        if p == 0.5 { return 0 }
        // Work in the upper tail: t > 0 with two-sided p-value 2(1 − p) (or 2p for the lower half).
        let target = p > 0.5 ? 2 * (1 - p) : 2 * p
        var high = 1.0
        while twoSidedPValue(high) > target { high *= 2; if high > 1e300 { return nil } }
        var low = 0.0
        for _ in 0..<2000 {
            let mid = (low + high) / 2
            if mid <= low || mid >= high { break }
            if twoSidedPValue(mid) > target { low = mid } else { high = mid }
        }
        let t = (low + high) / 2
        return p > 0.5 ? t : -t
    }
}
