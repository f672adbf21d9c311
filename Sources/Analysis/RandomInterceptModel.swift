import Foundation

/// A linear mixed model with one random intercept per group (per donor, in a cohort):
/// y = X·β + u[group] + e, u ~ N(0, σu²), e ~ N(0, σ²), fitted by REML as lme4 does
/// (`lmer(y ~ … + (1 | donor), REML = TRUE)`), missing points simply absent.
///
/// The covariance of one group's n observations is σ²·(I + θ²·11ᵀ) with θ = σu/σ (lme4's
/// parameter), so every quantity has a closed form per group (Sherman–Morrison):
///   (I + θ²11ᵀ)⁻¹ = I − θ²/(1 + nθ²)·11ᵀ,  log|I + θ²11ᵀ| = log(1 + nθ²).
/// β and σ² are profiled out, and the REML criterion (lme4's `REMLcrit`)
///   d(θ) = (n − p)·(1 + log(2π·σ̂²)) + Σ log(1 + n_g·θ²) + log|XᵀH⁻¹X|,  σ̂² = r/(n − p)
/// is minimised over θ ≥ 0 (a log grid, then golden-section search); θ = 0 is a boundary fit
/// (no between-donor variance), reported as such. F tests of fixed-effect contrasts use
/// Satterthwaite's degrees of freedom as R's lmerTest (`SatterthwaiteTest`).
public struct RandomInterceptModel: Sendable {
    public let coefficients: [Double]
    /// cov(β̂) = σ̂²·(XᵀH⁻¹X)⁻¹.
    public let covariance: Matrix
    public let residualVariance: Double
    public let groupVariance: Double
    /// θ = σu/σ at the optimum.
    public let theta: Double
    /// lme4's REML criterion (−2 × restricted log-likelihood) at the optimum.
    public let remlCriterion: Double
    public let observations: Int
    public let groupCount: Int
    /// True when the optimum is θ = 0 (lme4: "boundary (singular) fit").
    public var isBoundary: Bool { theta == 0 }

    let data: Sufficient

    /// Throws when the lists disagree in length, a value is not finite, there are no residual
    /// degrees of freedom or fewer than two groups, or X is rank deficient.
    public static func fit(y: [Double], x: Matrix, groups: [Int]) throws -> RandomInterceptModel {
        guard y.count == x.rows, groups.count == y.count else {
            throw StatisticsError("mixed model: \(y.count) responses, \(x.rows) design rows, \(groups.count) group labels")
        }
        guard y.allSatisfy(\.isFinite), x.values.allSatisfy(\.isFinite) else { throw StatisticsError("mixed model: a value is not finite") }
        guard y.count > x.columns else {
            throw StatisticsError("mixed model: \(y.count) observations cannot fit \(x.columns) fixed effects and a residual")
        }
        let data = Sufficient(y: y, x: x, groups: groups)
        guard data.groups.count >= 2 else { throw StatisticsError("mixed model: needs at least two groups (donors), got \(data.groups.count)") }
        guard data.profile(theta: 0) != nil else { throw StatisticsError("mixed model: the fixed-effect design is rank deficient") }
        let theta = Self.minimise { data.profile(theta: $0)?.criterion ?? .infinity }
        let best = data.profile(theta: theta)!
        let sigma2 = best.sigma2
        var covariance = best.inverseXtHX
        for i in covariance.values.indices { covariance.values[i] *= sigma2 }
        return RandomInterceptModel(coefficients: best.beta, covariance: covariance, residualVariance: sigma2,
                                    groupVariance: theta * theta * sigma2, theta: theta, remlCriterion: best.criterion,
                                    observations: y.count, groupCount: data.groups.count, data: data)
    }

    /// θ minimising f over [0, ∞): the best of a log-spaced grid (and 0), then golden section
    /// between its neighbours.
    static func minimise(_ f: (Double) -> Double) -> Double {
        let grid = [0.0] + (0...120).map { pow(10, -4 + Double($0) * 0.05) }   // 1e-4 … 1e2
        let values = grid.map(f)
        let i = values.indices.min { values[$0] < values[$1] }!
        var a = grid[max(i - 1, 0)], b = grid[min(i + 1, grid.count - 1)]
        let ratio = (5.0.squareRoot() - 1) / 2
        var c = b - ratio * (b - a), d = a + ratio * (b - a)
        var fc = f(c), fd = f(d)
        for _ in 0..<200 where b - a > 1e-13 * max(1, abs(a) + abs(b)) {
            if fc < fd { b = d; d = c; fd = fc; c = b - ratio * (b - a); fc = f(c) } else { a = c; c = d; fc = fd; d = a + ratio * (b - a); fd = f(d) }
        }
        let inner = (a + b) / 2
        // The boundary wins when it is at least as good (lme4 reports θ = 0 exactly).
        return f(0) <= f(inner) ? 0 : inner
    }

    /// The REML deviance as a function of (θ, σ) with β at its GLS estimate for θ: what lmerTest
    /// differentiates for Satterthwaite's method.
    func deviance(theta: Double, sigma: Double) -> Double {
        guard let p = data.profile(theta: theta), sigma > 0 else { return .nan }
        let n = Double(data.n), k = Double(data.p)
        let s2 = sigma * sigma
        return n * log(s2) + p.logDetH + p.logDetXtHX - k * log(s2) + p.residual / s2 + (n - k) * log(2 * Double.pi)
    }

    /// cov(β̂) as a function of (θ, σ).
    func coefficientCovariance(theta: Double, sigma: Double) -> Matrix? {
        guard var m = data.profile(theta: theta)?.inverseXtHX else { return nil }
        for i in m.values.indices { m.values[i] *= sigma * sigma }
        return m
    }
}

/// Per-group sums from which every REML quantity follows in O(groups·p²).
struct Sufficient: Sendable {
    struct Group: Sendable {
        var n = 0
        var xtx: [Double]   // p×p, row-major
        var xt1: [Double]   // p
        var xty: [Double]   // p
        var sumY = 0.0
        var yty = 0.0
    }
    let n: Int
    let p: Int
    let groups: [Group]

    init(y: [Double], x: Matrix, groups labels: [Int]) {
        n = y.count; p = x.columns
        var index: [Int: Int] = [:], groups: [Group] = []
        for (row, label) in labels.enumerated() {
            if index[label] == nil {
                index[label] = groups.count
                groups.append(Group(xtx: Array(repeating: 0, count: p * p), xt1: Array(repeating: 0, count: p), xty: Array(repeating: 0, count: p)))
            }
            let g = index[label]!
            groups[g].n += 1
            groups[g].sumY += y[row]
            groups[g].yty += y[row] * y[row]
            for i in 0..<p {
                let xi = x[row, i]
                groups[g].xt1[i] += xi
                groups[g].xty[i] += xi * y[row]
                for j in 0..<p { groups[g].xtx[i * p + j] += xi * x[row, j] }
            }
        }
        self.groups = groups
    }

    struct Profile {
        var beta: [Double]
        var inverseXtHX: Matrix
        var logDetXtHX: Double
        var logDetH: Double
        /// (y − Xβ̂)ᵀH⁻¹(y − Xβ̂).
        var residual: Double
        var sigma2: Double
        var criterion: Double
    }

    /// β̂, σ̂² and the REML criterion for one θ; nil when XᵀH⁻¹X is not positive definite.
    func profile(theta: Double) -> Profile? {
        let t2 = theta * theta
        var a = Matrix(rows: p, columns: p), b = Array(repeating: 0.0, count: p)
        var c = 0.0, logDetH = 0.0
        for g in groups {
            let k = t2 / (1 + Double(g.n) * t2)
            logDetH += log1p(Double(g.n) * t2)
            for i in 0..<p {
                b[i] += g.xty[i] - k * g.xt1[i] * g.sumY
                for j in 0..<p { a[i, j] += g.xtx[i * p + j] - k * g.xt1[i] * g.xt1[j] }
            }
            c += g.yty - k * g.sumY * g.sumY
        }
        guard let inverse = LinearSolve.inverseSPD(a), let eigen = LinearSolve.symmetricEigenvalues(a), eigen.allSatisfy({ $0 > 0 }) else {
            return nil
        }
        let beta = inverse.times(b)
        let residual = max(c - zip(b, beta).reduce(0) { $0 + $1.0 * $1.1 }, 0)
        let dof = Double(n - p)
        let sigma2 = residual / dof
        let logDet = eigen.reduce(0) { $0 + log($1) }
        let criterion = dof * (1 + log(2 * Double.pi * sigma2)) + logDetH + logDet
        return Profile(beta: beta, inverseXtHX: inverse, logDetXtHX: logDet, logDetH: logDetH, residual: residual,
                       sigma2: sigma2, criterion: criterion)
    }
}
