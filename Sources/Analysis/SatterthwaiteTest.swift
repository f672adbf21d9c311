import Foundation

/// The F test of fixed-effect contrasts L·β = 0 in a `RandomInterceptModel` with Satterthwaite's
/// denominator degrees of freedom, as R's lmerTest computes them (Kuznetsova et al. 2017):
///
/// 1. M = L·C·Lᵀ (C = cov β̂) = P·diag(d)·Pᵀ; the rows l_m = P_mᵀ·L are independent 1-df contrasts
///    (eigenvalues below 1e-12 of the largest are dropped: q = the rank).
/// 2. For each, t_m = l_m·β̂/√d_m and ν_m = 2·d_m² / (g_mᵀ·A·g_m), where g_m is the gradient of
///    l_m·C(θ, σ)·l_mᵀ and A = 2·H⁻¹ the asymptotic covariance of (θ, σ), H the Hessian of the
///    REML deviance (both by Richardson-extrapolated central differences, as numDeriv does).
/// 3. F = Σ t_m² / q; ν = ν_1 for q = 1, the mean when all ν_m are equal, 2 if any ν_m ≤ 2,
///    else 2E/(E − q) with E = Σ ν_m/(ν_m − 2).
public struct SatterthwaiteTest: Sendable {
    public let f: Double
    public let numeratorDF: Int
    public let denominatorDF: Double
    public let pValue: Double

    public init(_ model: RandomInterceptModel, contrasts l: Matrix) throws {
        precondition(l.columns == model.coefficients.count, "contrasts: \(l.columns) columns for \(model.coefficients.count) coefficients")
        let c = model.covariance
        var m = Matrix(rows: l.rows, columns: l.rows)
        for i in 0..<l.rows { for j in 0..<l.rows { m[i, j] = Self.form(l.row(i), c, l.row(j)) } }
        guard let (values, vectors) = LinearSolve.symmetricEigen(m), let largest = values.max(), largest > 0 else {
            throw StatisticsError("F test: the contrasts have no variance")
        }
        let phi = [model.theta, model.residualVariance.squareRoot()]
        guard let a = Self.varianceParameterCovariance(model, at: phi) else {
            throw StatisticsError("F test: the REML deviance is not curved at its optimum (Satterthwaite df undefined)")
        }
        var tSquared = 0.0, nus: [Double] = []
        for k in values.indices where values[k] > 1e-12 * largest {
            var lm = Array(repeating: 0.0, count: l.columns)
            for i in 0..<l.rows { for j in 0..<l.columns { lm[j] += vectors[i, k] * l[i, j] } }
            let d = Self.form(lm, c, lm)
            let estimate = zip(lm, model.coefficients).reduce(0) { $0 + $1.0 * $1.1 }
            tSquared += estimate * estimate / d
            let g = Self.gradient(at: phi) { p in
                model.coefficientCovariance(theta: p[0], sigma: p[1]).map { Self.form(lm, $0, lm) } ?? .nan
            }
            nus.append(2 * d * d / Self.form(g, a, g))
        }
        let q = nus.count
        f = tSquared / Double(q)
        numeratorDF = q
        if q == 1 {
            denominatorDF = nus[0]
        } else if nus.allSatisfy({ abs($0 - nus[0]) < 1e-8 }) {
            denominatorDF = nus.reduce(0, +) / Double(q)
        } else if nus.contains(where: { $0 <= 2 }) {
            denominatorDF = 2
        } else {
            let e = nus.reduce(0) { $0 + $1 / ($1 - 2) }
            denominatorDF = 2 * e / (e - Double(q))
        }
        guard let distribution = FDistribution(numerator: Double(q), denominator: denominatorDF) else {
            throw StatisticsError("F test: Satterthwaite's denominator degrees of freedom are \(denominatorDF)")
        }
        pValue = distribution.sf(f)
    }

    static func form(_ u: [Double], _ m: Matrix, _ v: [Double]) -> Double {
        var s = 0.0
        for i in u.indices { for j in v.indices { s += u[i] * m[i, j] * v[j] } }
        return s
    }

    /// 2·H⁻¹, H the Hessian of the REML deviance in (θ, σ); nil unless H is positive definite.
    static func varianceParameterCovariance(_ model: RandomInterceptModel, at phi: [Double]) -> Matrix? {
        let h = hessian(at: phi) { model.deviance(theta: $0[0], sigma: $0[1]) }
        guard let inverse = LinearSolve.inverseSPD(h) else { return nil }
        var a = inverse
        for i in a.values.indices { a.values[i] *= 2 }
        return a
    }

    /// Step for parameter value x: relative, with a floor for values at or near 0 (θ at the boundary).
    static func step(_ x: Double) -> Double { 1e-2 * max(abs(x), 0.1) }

    /// Central differences extrapolated over four halvings of the step (Richardson).
    static func richardson(_ h: Double, _ estimate: (Double) -> Double) -> Double {
        var table = (0..<4).map { estimate(h / pow(2, Double($0))) }
        var factor = 4.0
        for level in 1..<4 {
            for i in 0..<(4 - level) { table[i] = (factor * table[i + 1] - table[i]) / (factor - 1) }
            factor *= 4
        }
        return table[0]
    }

    static func gradient(at x: [Double], _ f: ([Double]) -> Double) -> [Double] {
        x.indices.map { i in
            richardson(step(x[i])) { h in
                var a = x, b = x
                a[i] += h; b[i] -= h
                return (f(a) - f(b)) / (2 * h)
            }
        }
    }

    static func hessian(at x: [Double], _ f: ([Double]) -> Double) -> Matrix {
        let n = x.count
        var h = Matrix(rows: n, columns: n)
        let f0 = f(x)
        for i in 0..<n {
            h[i, i] = richardson(step(x[i])) { d in
                var a = x, b = x
                a[i] += d; b[i] -= d
                return (f(a) - 2 * f0 + f(b)) / (d * d)
            }
            for j in 0..<i {
                let v = richardson(step(max(abs(x[i]), abs(x[j])))) { d in
                    var pp = x, pm = x, mp = x, mm = x
                    pp[i] += d; pp[j] += d; pm[i] += d; pm[j] -= d; mp[i] -= d; mp[j] += d; mm[i] -= d; mm[j] -= d
                    return (f(pp) - f(pm) - f(mp) + f(mm)) / (4 * d * d)
                }
                h[i, j] = v; h[j, i] = v
            }
        }
        return h
    }
}

extension Matrix {
    /// Row r as an array.
    public func row(_ r: Int) -> [Double] { (0..<columns).map { self[r, $0] } }
}
