import Foundation

/// The regularised incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), the CDF of the beta
/// distribution; Student-t and Pearson p-values come from it.
public enum IncompleteBeta {
    /// I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1 (nil outside that domain).
    /// Continued fraction (Numerical Recipes §6.4, modified Lentz), evaluated on the side of the
    /// mean where it converges fast and complemented by the symmetry I_x(a,b) = 1 − I_{1−x}(b,a).
    public static func regularized(a: Double, b: Double, x: Double) -> Double? {
        guard a > 0, b > 0, a.isFinite, b.isFinite, x >= 0, x <= 1 else { return nil }
        return regularized(a: a, b: b, x: x, oneMinusX: 1 - x)
    }

    /// I_x(a, b) with 1 − x given separately, for callers that know it more exactly than 1 − x
    /// rounds (x = 1 − r² near |r| = 1). Domain as `regularized(a:b:x:)`, not checked.
    static func regularized(a: Double, b: Double, x: Double, oneMinusX y: Double) -> Double {
        if x <= 0 { return 0 }
        if y <= 0 { return 1 }
        if x < (a + 1) / (a + b + 2) {
            return front(a: a, b: b, x: x, y: y) * continuedFraction(a: a, b: b, x: x) / a
        }
        return 1 - front(a: b, b: a, x: y, y: x) * continuedFraction(a: b, b: a, x: y) / b
    }

    /// x^a y^b / B(a, b) with y = 1 − x, in logarithms so that large a, b do not overflow.
    private static func front(a: Double, b: Double, x: Double, y: Double) -> Double {
        let logBeta = lgamma(a) + lgamma(b) - lgamma(a + b)
        // log1p keeps the digits of y = 1 − x when x is small.
        let logY = x < 0.5 ? log1p(-x) : log(y)
        return exp(a * log(x) + b * logY - logBeta)
    }

    /// The continued fraction 1/(1+ d1/(1+ d2/(1+ …))) of NR eq. 6.4.5, by the modified Lentz method.
    private static func continuedFraction(a: Double, b: Double, x: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-16
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        // Converges in O(sqrt(max(a, b))) steps; the cap is far beyond what any count table needs.
        for m in 1...100_000 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }
}
