import Foundation

/// Pearson's product-moment correlation of paired samples, with its 95 % confidence interval
/// (Fisher z) and two-sided p-value (t test with n − 2 degrees of freedom), as scipy.stats.pearsonr.
public struct Correlation: Equatable, Sendable {
    /// Number of pairs.
    public let n: Int
    /// Pearson r in [−1, 1].
    public let r: Double
    /// 95 % confidence interval of r by Fisher's z transformation.
    public let lower95: Double
    public let upper95: Double
    /// Two-sided p-value of H0: ρ = 0 (0 when |r| = 1).
    public let pValue: Double

    /// The standard normal 0.975 quantile, Φ⁻¹(0.975), to double precision (the "1.96" of a 95 % CI).
    public static let z975 = 1.959963984540054

    /// r, CI and p of paired samples. Throws, naming the cause, when r is undefined: fewer than 3
    /// pairs, unequal lengths, a non-finite value, or a sample without variance.
    public static func pearson(_ x: [Double], _ y: [Double]) throws -> Correlation {
        guard x.count == y.count else {
            throw StatisticsError("r is undefined: \(x.count) values paired with \(y.count)")
        }
        let n = x.count
        guard n >= 3 else { throw StatisticsError("r is undefined: \(n) pair\(n == 1 ? "" : "s"), need at least 3") }
        guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else {
            throw StatisticsError("r is undefined: a value is not finite")
        }
        // Two passes (centre, then sum products): no cancellation from Σx² − n·x̄².
        let mx = x.reduce(0, +) / Double(n), my = y.reduce(0, +) / Double(n)
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in 0..<n {
            let dx = x[i] - mx, dy = y[i] - my
            sxx += dx * dx; syy += dy * dy; sxy += dx * dy
        }
        if sxx == 0 || syy == 0 {
            let which = sxx == 0 && syy == 0 ? "both samples are" : sxx == 0 ? "the first sample is" : "the second sample is"
            let value = sxx == 0 ? x[0] : y[0]
            throw StatisticsError("r is undefined: \(which) constant (all \(format(value)))")
        }
        // Divide before multiplying: sxx·syy can overflow or underflow where r is fine.
        let r = min(1, max(-1, sxy / sxx.squareRoot() / syy.squareRoot()))
        let (lower, upper) = fisherInterval(r: r, n: n)
        return Correlation(n: n, r: r, lower95: lower, upper95: upper, pValue: pValue(r: r, n: n))
    }

    public static func pearson(_ x: [Int], _ y: [Int]) throws -> Correlation {
        try pearson(x.map(Double.init), y.map(Double.init))
    }

    /// 95 % CI of r from (r, n): z = atanh r, se = 1/√(n−3), tanh(z ± 1.96·se). For n = 3 the
    /// interval is (−1, 1); for |r| = 1 it is the point r.
    public static func fisherInterval(r: Double, n: Int) -> (lower: Double, upper: Double) {
        precondition(n >= 3 && abs(r) <= 1, "fisherInterval needs n ≥ 3 and |r| ≤ 1")
        if abs(r) == 1 { return (r, r) }
        if n == 3 { return (-1, 1) }
        let z = atanh(r), halfWidth = z975 / Double(n - 3).squareRoot()
        return (tanh(z - halfWidth), tanh(z + halfWidth))
    }

    /// Two-sided p of r under H0: ρ = 0, t = r·√((n−2)/(1−r²)) with n − 2 df. With x = ν/(ν+t²)
    /// = 1 − r², the t tail is I_{1−r²}(ν/2, 1/2), computed from (1−r)(1+r) and r² directly.
    public static func pValue(r: Double, n: Int) -> Double {
        precondition(n >= 3 && abs(r) <= 1, "pValue needs n ≥ 3 and |r| ≤ 1")
        if abs(r) == 1 { return 0 }
        let nu = Double(n - 2)
        return IncompleteBeta.regularized(a: nu / 2, b: 0.5, x: (1 - r) * (1 + r), oneMinusX: r * r)
    }

    /// The t statistic r·√((n−2)/(1−r²)); infinite when |r| = 1.
    public var t: Double { r * (Double(n - 2) / ((1 - r) * (1 + r))).squareRoot() }

    private static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
