import Foundation

/// A one-dimensional Gaussian mixture fitted by expectation–maximisation: scikit-learn's
/// `GaussianMixture` (k-means initialisation, `reg_covar` added to every variance, convergence on
/// the mean log-likelihood) for one feature. The Ogawa method labels cells with two components on
/// log(fluorescence) and drops those whose larger posterior is below 0.8.
public struct GaussianMixture1D: Equatable, Sendable {
    /// Components sorted by mean (ascending).
    public var weights: [Double], means: [Double], variances: [Double]
    /// Mean log-likelihood per sample at the fit.
    public var meanLogLikelihood: Double
    public var iterations: Int
    public var converged: Bool

    /// Fits `components` Gaussians to `values`. `regularization` is added to each variance (scikit-learn's
    /// reg_covar, 1e-6); EM stops when the mean log-likelihood changes by less than `tolerance` (scikit-learn's `tol`; the reference fixture uses 1e-12 too).
    public static func fit(_ values: [Double], components k: Int = 2, tolerance: Double = 1e-12, maxIterations: Int = 100_000,
                           regularization: Double = 1e-6) throws -> GaussianMixture1D {
        guard k >= 1 else { throw StatisticsError("a mixture needs at least one component") }
        guard values.count >= 2 * k else { throw StatisticsError("\(values.count) values are too few for \(k) components") }
        guard values.allSatisfy(\.isFinite) else { throw StatisticsError("the values hold NaN or infinity") }
        let x = values
        // k-means (Lloyd) from evenly spaced quantiles gives hard responsibilities, as scikit-learn's init.
        let sorted = x.sorted()
        var centres = (0..<k).map { sorted[min(sorted.count - 1, Int((Double($0) + 0.5) / Double(k) * Double(sorted.count)))] }
        var assignment = [Int](repeating: 0, count: x.count)
        for _ in 0..<300 {
            var changed = false
            for (i, v) in x.enumerated() {
                let best = (0..<k).min { abs(v - centres[$0]) < abs(v - centres[$1]) }!
                if best != assignment[i] { assignment[i] = best; changed = true }
            }
            for c in 0..<k {
                let members = x.indices.filter { assignment[$0] == c }
                if !members.isEmpty { centres[c] = members.reduce(0) { $0 + x[$1] } / Double(members.count) }
            }
            if !changed { break }
        }
        var resp = [Double](repeating: 0, count: x.count * k)
        for i in x.indices { resp[i * k + assignment[i]] = 1 }
        var model = GaussianMixture1D(weights: [], means: [], variances: [], meanLogLikelihood: -.infinity, iterations: 0, converged: false)
        model.maximise(x, resp, k: k, regularization: regularization)
        var previous = -Double.infinity
        for iteration in 1...maxIterations {
            let (logLikelihood, r) = model.expectation(x)
            resp = r
            model.maximise(x, resp, k: k, regularization: regularization)
            model.iterations = iteration
            if abs(logLikelihood - previous) < tolerance {
                model.converged = true
                break
            }
            previous = logLikelihood
        }
        model.meanLogLikelihood = model.expectation(x).meanLogLikelihood
        // Components in ascending order of their means.
        let order = (0..<k).sorted { model.means[$0] < model.means[$1] }
        model.weights = order.map { model.weights[$0] }; model.means = order.map { model.means[$0] }
        model.variances = order.map { model.variances[$0] }
        return model
    }

    /// Posterior probability of each component for `value` (sums to 1).
    public func posteriors(_ value: Double) -> [Double] {
        let logs = weights.indices.map { Foundation.log(weights[$0]) + Self.logDensity(value, means[$0], variances[$0]) }
        let m = logs.max()!
        let total = logs.reduce(0) { $0 + Foundation.exp($1 - m) }
        return logs.map { Foundation.exp($0 - m) / total }
    }

    static func logDensity(_ x: Double, _ mean: Double, _ variance: Double) -> Double {
        -0.5 * (Foundation.log(2 * Double.pi * variance) + (x - mean) * (x - mean) / variance)
    }

    /// E step: the mean log-likelihood and the responsibilities [n, k].
    func expectation(_ x: [Double]) -> (meanLogLikelihood: Double, resp: [Double]) {
        let k = weights.count
        var resp = [Double](repeating: 0, count: x.count * k)
        var total = 0.0
        for (i, v) in x.enumerated() {
            var logs = [Double](repeating: 0, count: k)
            for c in 0..<k { logs[c] = Foundation.log(weights[c]) + Self.logDensity(v, means[c], variances[c]) }
            let m = logs.max()!
            let s = logs.reduce(0) { $0 + Foundation.exp($1 - m) }
            let norm = m + Foundation.log(s)
            total += norm
            for c in 0..<k { resp[i * k + c] = Foundation.exp(logs[c] - norm) }
        }
        return (total / Double(x.count), resp)
    }

    /// M step, as scikit-learn: N_k gets 10·ε so an empty component stays defined.
    mutating func maximise(_ x: [Double], _ resp: [Double], k: Int, regularization: Double) {
        var n = [Double](repeating: 10 * Double.ulpOfOne, count: k), sum = [Double](repeating: 0, count: k)
        for (i, v) in x.enumerated() { for c in 0..<k { n[c] += resp[i * k + c]; sum[c] += resp[i * k + c] * v } }
        means = (0..<k).map { sum[$0] / n[$0] }
        var squares = [Double](repeating: 0, count: k)
        for (i, v) in x.enumerated() { for c in 0..<k { squares[c] += resp[i * k + c] * (v - means[c]) * (v - means[c]) } }
        variances = (0..<k).map { squares[$0] / n[$0] + regularization }
        let total = n.reduce(0, +)
        weights = n.map { $0 / total }
    }
}
