import Foundation

/// The regularised incomplete gamma functions P(a, x) = γ(a, x)/Γ(a) and Q(a, x) = 1 − P(a, x),
/// the CDF and upper tail of the gamma distribution; χ² p-values come from Q.
public enum IncompleteGamma {
    /// P(a, x) for a > 0, x ≥ 0 (nil outside that domain).
    public static func lower(a: Double, x: Double) -> Double? {
        guard a > 0, a.isFinite, x >= 0, !x.isNaN else { return nil }
        if x == 0 { return 0 }
        if x.isInfinite { return 1 }
        // Each side is computed where it converges fast and keeps its relative digits; the other
        // is its complement (absolute precision only, which is all a number near 1 has).
        return x < a + 1 ? series(a: a, x: x) : 1 - continuedFraction(a: a, x: x)
    }

    /// Q(a, x) = 1 − P(a, x), with relative precision in the upper tail.
    public static func upper(a: Double, x: Double) -> Double? {
        guard a > 0, a.isFinite, x >= 0, !x.isNaN else { return nil }
        if x == 0 { return 1 }
        if x.isInfinite { return 0 }
        return x < a + 1 ? 1 - series(a: a, x: x) : continuedFraction(a: a, x: x)
    }

    /// x^a e^(−x) / Γ(a), in logarithms so that large a or x do not overflow.
    private static func front(a: Double, x: Double) -> Double {
        exp(a * log(x) - x - lgamma(a))
    }

    /// P(a, x) = x^a e^(−x)/Γ(a) · Σ x^n / (a (a+1) … (a+n)) (NR eq. 6.2.5), for x < a + 1.
    private static func series(a: Double, x: Double) -> Double {
        var term = 1 / a, sum = term, ap = a
        // Terms fall at least like (x/(a+n)) < 1; the cap is far beyond any χ² a test needs.
        for _ in 0..<100_000 {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-17 { break }
        }
        return sum * front(a: a, x: x)
    }

    /// Q(a, x) by the continued fraction 1/(x+1−a− 1·(1−a)/(x+3−a− …)) (NR eq. 6.2.7),
    /// modified Lentz, for x ≥ a + 1.
    private static func continuedFraction(a: Double, x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...100_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b; if abs(d) < tiny { d = tiny }
            c = b + an / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return front(a: a, x: x) * h
    }
}
