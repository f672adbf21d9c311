import Foundation

/// Kolmogorov's limiting distribution of √n·D (scipy.stats.kstwobign).
enum KolmogorovDistribution {
    /// P(K > z) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²z²}; for small z, where that series converges slowly,
    /// 1 − (√(2π)/z) Σ_{k≥1} e^{−(2k−1)²π²/(8z²)} (the same function by Jacobi's theta identity).
    static func survival(_ z: Double) -> Double {
        if z <= 0 { return 1 }
        if z < 1 {
            var sum = 0.0
            for k in 1...20 {
                let odd = Double(2 * k - 1)
                sum += exp(-odd * odd * Double.pi * Double.pi / (8 * z * z))
            }
            return 1 - (2 * Double.pi).squareRoot() / z * sum
        }
        var sum = 0.0
        for k in 1...100 {
            let kk = Double(k)
            let term = exp(-2 * kk * kk * z * z)
            sum += k % 2 == 1 ? term : -term
            if term < 1e-300 { break }
        }
        return 2 * sum
    }
}
