import Foundation

/// The exact null distribution of the two-sample Kolmogorov–Smirnov statistic (Smirnov): with
/// samples of sizes m and n, P(D ≥ h / lcm(m, n)) is the share of the C(m+n, n) monotone lattice
/// paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm (Hodges 1958, "inside
/// method"). The recursion carries 1 − (share still inside) directly, which keeps small p-values
/// accurate (Viehmann 2021, arXiv:2102.08037); this is also what scipy.stats.ks_2samp computes.
enum SmirnovDistribution {
    /// P(D ≥ h / lcm(m, n)) under H0, for m, n ≥ 1 and h ≥ 0.
    static func pValue(m: Int, n: Int, h: Int) -> Double {
        m == n ? equalSizes(n: n, h: h) : band(m: m, n: n, h: h)
    }

    /// The band recursion, for any sizes: ≈ m·(2h·n/lcm + 1) steps.
    static func band(m: Int, n: Int, h: Int) -> Double {
        if h <= 0 { return 1 }
        let (m, n) = m >= n ? (m, n) : (n, m)
        let g = KolmogorovSmirnov.gcd(m, n), mg = m / g, ng = n / g
        // Column x of the grid: the cells y inside the band, |ng·x − mg·y| < h, are lo..<hi.
        func band(_ x: Int) -> (lo: Int, hi: Int) {
            let lo = floorDivide(ng * x - h, mg) + 1
            let hi = (ng * x + h + mg - 1) / mg
            return (min(max(lo, 0), n), min(hi, n + 1))
        }
        // q[y]: probability that a uniformly random path to (x, y) has left the band (1 outside it).
        var q = [Double](repeating: 1, count: n + 1)
        var (previousLo, previousHi) = band(0)
        for y in previousLo..<previousHi { q[y] = 0 }
        for x in 1...m {
            let (lo, hi) = band(x)
            if hi <= lo { return 1 }
            // The band only moves up: cells it leaves are outside from now on.
            for y in previousLo..<min(lo, previousHi) { q[y] = 1 }
            // A path reaches (x, y) from (x−1, y) with weight x/(x+y), from (x, y−1) with y/(x+y).
            var below = lo == 0 ? 0.0 : 1.0
            let column = Double(x)
            for y in lo..<hi {
                let value = (q[y] * column + below * Double(y)) / (column + Double(y))
                q[y] = value
                below = value
            }
            (previousLo, previousHi) = (lo, hi)
        }
        return q[n]
    }

    /// Equal sizes (every count-matched comparison): the paths that leave the band are counted by
    /// reflection, P(D ≥ h/n) = 2 (A₁ − A₂ + A₃ − …) with A_k = C(2n, n − k·h) / C(2n, n), evaluated
    /// nested as A₁(1 − (A₂/A₁)(1 − (A₃/A₂)(1 − …))) from the innermost term out, each ratio a product
    /// of h factors (scipy's `_compute_prob_outside_square`): ≈ n steps instead of the band recursion's n·h.
    static func equalSizes(n: Int, h: Int) -> Double {
        if h <= 0 { return 1 }
        if h > n { return 0 }
        var p = 0.0
        for k in stride(from: n / h, through: 0, by: -1) {
            // A_{k+1} / A_k = Π_{j<h} (n − k·h − j) / (n + k·h + j + 1)
            var ratio = 1.0
            for j in 0..<h { ratio *= Double(n - k * h - j) / Double(n + k * h + j + 1) }
            p = ratio * (1 - p)
        }
        return min(1, 2 * p)
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}
