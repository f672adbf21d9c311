import Foundation

/// Levenberg–Marquardt for nonlinear least squares: steps δ solving (JᵀJ + μ·D)·δ = −Jᵀr with
/// D = diag(JᵀJ) (Marquardt's scaling, so parameters of different units — a plateau in %, a
/// Hill slope — are damped alike), μ updated from the gain ratio (Nielsen 1999). The damped
/// normal equations are solved by Cholesky in LAPACK; a system that is not positive definite
/// is treated as a rejected step (more damping).
/// Stopping rules follow MINPACK's lmder: relative step ≤ `stepTolerance`, relative reductions
/// ≤ `reductionTolerance`, gradient cosine ≤ `gradientTolerance`; otherwise `maxIterations`.
public struct LevenbergMarquardt: Sendable {
    public var maxIterations: Int
    public var stepTolerance: Double
    public var reductionTolerance: Double
    public var gradientTolerance: Double

    public init(maxIterations: Int = 1000, stepTolerance: Double = 1e-12, reductionTolerance: Double = 1e-15,
                gradientTolerance: Double = 1e-12) {
        self.maxIterations = maxIterations
        self.stepTolerance = stepTolerance
        self.reductionTolerance = reductionTolerance
        self.gradientTolerance = gradientTolerance
    }

    public func minimize(_ problem: LeastSquaresProblem, from start: [Double]) -> LeastSquaresSolution {
        precondition(start.count == problem.parameterCount, "start has \(start.count) parameters, not \(problem.parameterCount)")
        var p = start
        var r = problem.residuals(p)
        var j = problem.jacobian(p)
        var cost = sumOfSquares(r)
        func solution(_ iterations: Int, _ termination: LeastSquaresSolution.Termination) -> LeastSquaresSolution {
            LeastSquaresSolution(parameters: p, residuals: r, jacobian: j, sumOfSquares: cost,
                                 iterations: iterations, termination: termination)
        }
        guard cost.isFinite, j.values.allSatisfy(\.isFinite) else { return solution(0, .nonFinite) }

        var a = j.gram, g = j.transposeTimes(r)
        // μ starts small relative to the curvature (τ = 1e-3, Madsen–Nielsen–Tingleff).
        var mu = 1e-3, nu = 2.0
        for iteration in 1...max(maxIterations, 1) {
            if cost == 0 { return solution(iteration - 1, .exactFit) }
            if gradientCosine(j, r, g, cost) <= gradientTolerance { return solution(iteration - 1, .smallGradient) }

            // Damped system; D floored so that a parameter the data ignore still gets damping.
            let largest = a.diagonal.max() ?? 1
            var damped = a
            for i in 0..<problem.parameterCount {
                damped[i, i] += mu * max(a[i, i], 1e-15 * largest, 1e-300)
            }
            guard let step = LinearSolve.solveSPD(damped, g.map { -$0 }) else {
                mu *= nu; nu *= 2
                continue
            }
            if zip(step, p).allSatisfy({ abs($0) <= stepTolerance * (abs($1) + stepTolerance) }) {
                return solution(iteration, .smallStep)
            }
            let trial = zip(p, step).map { $0 + $1 }
            let trialResiduals = problem.residuals(trial)
            let trialCost = sumOfSquares(trialResiduals)
            // Predicted reduction of ½‖r‖² by the linear model: ½·δᵀ(μ·D·δ − g).
            var predicted = 0.0
            for i in 0..<step.count { predicted += step[i] * ((damped[i, i] - a[i, i]) * step[i] - g[i]) }
            predicted /= 2
            let actual = (cost - trialCost) / 2
            if trialCost.isFinite, actual > 0, predicted > 0 {
                let rho = actual / predicted
                let previousCost = cost
                p = trial
                r = trialResiduals
                cost = trialCost
                j = problem.jacobian(p)
                if !j.values.allSatisfy(\.isFinite) { return solution(iteration, .nonFinite) }
                a = j.gram
                g = j.transposeTimes(r)
                mu *= max(1.0 / 3, 1 - pow(2 * rho - 1, 3))
                nu = 2
                if actual <= reductionTolerance * previousCost / 2, predicted <= reductionTolerance * previousCost / 2 {
                    return solution(iteration, .smallReduction)
                }
            } else {
                mu *= nu; nu *= 2
                if !mu.isFinite || mu > 1e300 { return solution(iteration, .smallStep) }
            }
        }
        return solution(maxIterations, .iterationLimit)
    }

    private func sumOfSquares(_ r: [Double]) -> Double { r.reduce(0) { $0 + $1 * $1 } }

    /// max over parameters of |Jⱼᵀr| / (‖Jⱼ‖·‖r‖): MINPACK's gtol test, scale-free.
    private func gradientCosine(_ j: Matrix, _ r: [Double], _ g: [Double], _ cost: Double) -> Double {
        let norm = cost.squareRoot()
        var worst = 0.0
        for c in 0..<j.columns {
            var columnSquares = 0.0
            for row in 0..<j.rows { columnSquares += j[row, c] * j[row, c] }
            if columnSquares > 0 { worst = max(worst, abs(g[c]) / (columnSquares.squareRoot() * norm)) }
        }
        return worst
    }
}
