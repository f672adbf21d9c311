import Foundation

/// The standard normal distribution: CDF, upper tail and quantile, each with relative precision
/// in its small tail (p down to ~1e-300), which a computed 1 − cdf would lose.
public enum NormalDistribution {
    /// P(Z ≤ z), through erfc so that the lower tail keeps its relative digits.
    public static func cdf(_ z: Double) -> Double {
        0.5 * erfc(-z / 2.0.squareRoot())
    }

    /// P(Z > z) = cdf(−z), exact by symmetry.
    public static func sf(_ z: Double) -> Double { cdf(-z) }

    /// The density φ(z).
    public static func density(_ z: Double) -> Double {
        exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
    }

    /// The z with P(Z ≤ z) = p, for 0 < p < 1 (nil otherwise; 0 and 1 give ∓∞).
    /// Acklam's rational approximation (relative error < 1.2e-9) refined by one Halley step on
    /// the erfc-based CDF, which brings it to a few ulps. Worked on the lower tail: p > 1/2 is
    /// mirrored through 1 − p, which is exact there (Sterbenz).
    public static func quantile(_ p: Double) -> Double? {
        guard p >= 0, p <= 1 else { return nil }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p > 0.5 { return -lowerQuantile(1 - p) }
        return lowerQuantile(p)
    }

    /// The z with P(Z > z) = q (the inverse of `sf`), precise for small q.
    public static func upperQuantile(_ q: Double) -> Double? {
        quantile(q).map { -$0 }
    }

    /// Quantile for 0 < p ≤ 1/2.
    private static func lowerQuantile(_ p: Double) -> Double {
        var z = acklam(p)
        // Halley: e = Φ(z) − p, u = e/φ(z); z ← z − u / (1 + z·u/2).
        let e = cdf(z) - p
        let u = e / density(z)
        if u.isFinite { z -= u / (1 + z * u / 2) }
        return z
    }

    private static let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    private static let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                            6.680131188771972e+01, -1.328068155288572e+01]
    private static let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                            -2.549671010429857e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    private static let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                            3.754408661907416e+00]

    /// Acklam's approximation on 0 < p ≤ 1/2: a tail formula in sqrt(−2 log p) below 0.02425,
    /// a rational function of (p − 1/2) above.
    private static func acklam(_ p: Double) -> Double {
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
