import Foundation

/// A least-squares fit of a `DoseResponseModel` with Prism's asymptotic statistics: covariance
/// s²·(JᵀJ)⁻¹ with s² = SSR/(n − p), standard errors, 95 % CIs estimate ± t(0.975, n − p)·SE,
/// the EC50 interval 10^(logEC50 CI), R², confidence bands by the delta method, and a verdict.
public struct DoseResponseFit: Sendable {
    public let model: DoseResponseModel
    /// Best-fit values in `model.parameterNames` order (the last iterate if not converged).
    public let parameters: [Double]
    public let verdict: FitVerdict
    /// Points fitted (replicates counted separately; vehicle excluded).
    public let pointCount: Int
    /// n − p.
    public let degreesOfFreedom: Int
    /// Σ (y − ŷ)².
    public let sumOfSquares: Double
    /// 1 − SSR/SST about the mean response.
    public let rSquared: Double
    /// s²·(JᵀJ)⁻¹; nil when JᵀJ is singular or there are no degrees of freedom.
    public let covariance: Matrix?
    /// Prism's dependency of each parameter, 1 − 1/((JᵀJ)⁻¹ᵢᵢ·(JᵀJ)ᵢᵢ): near 1 when other
    /// parameters can make up for a change in it. nil with the covariance.
    public let dependencies: [Double]?
    /// The tested range of log concentrations.
    public let logRange: ClosedRange<Double>
    /// Vehicle (zero concentration) responses, reported apart from the curve.
    public let vehicleResponses: [Double]
    public let iterations: Int

    /// Confidence level of every interval and band.
    public static let level = 0.95
    /// Prism's threshold for an "ambiguous" parameter.
    public static let ambiguousDependency = 0.9999
    /// An EC50 further than this many decades outside the tested range is extrapolation.
    public static let extrapolationDecades = 1.0

    /// Fits `model` to the points (vehicle left out) by Levenberg–Marquardt from `start` (default:
    /// `model.initialParameters`). Throws when there are fewer points than parameters or fewer
    /// than two distinct concentrations; a failure to converge is a verdict, not an error.
    public static func fit(_ data: DoseResponseData, model: DoseResponseModel = .fourParameter,
                           start: [Double]? = nil, solver: LevenbergMarquardt = LevenbergMarquardt()) throws -> DoseResponseFit {
        let x = data.logConcentrations, y = data.responses
        guard x.count >= model.parameterCount else {
            throw StatisticsError("dose-response: \(x.count) points cannot fit the \(model.parameterCount) parameters of the \(model.rawValue) model")
        }
        guard let range = data.logRange, range.upperBound > range.lowerBound else {
            throw StatisticsError("dose-response: all points are at one concentration")
        }
        let start = start ?? model.initialParameters(logConcentrations: x, responses: y)
        let problem = LeastSquaresProblem(
            residualCount: x.count, parameterCount: model.parameterCount,
            residuals: { p in zip(x, y).map { model.value(at: $0, p) - $1 } },
            jacobian: { p in
                var j = Matrix(rows: x.count, columns: model.parameterCount)
                for (row, xi) in x.enumerated() {
                    for (c, v) in model.gradient(at: xi, p).enumerated() { j[row, c] = v }
                }
                return j
            })
        let solution = solver.minimize(problem, from: start)
        return DoseResponseFit(model: model, solution: solution, responses: y, logRange: range,
                               vehicleResponses: data.vehicleResponses)
    }

    init(model: DoseResponseModel, solution: LeastSquaresSolution, responses y: [Double],
         logRange: ClosedRange<Double>, vehicleResponses: [Double]) {
        self.model = model
        parameters = solution.parameters
        pointCount = y.count
        degreesOfFreedom = y.count - model.parameterCount
        sumOfSquares = solution.sumOfSquares
        let mean = y.reduce(0, +) / Double(y.count)
        let total = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        rSquared = total > 0 ? 1 - solution.sumOfSquares / total : .nan
        self.logRange = logRange
        self.vehicleResponses = vehicleResponses
        iterations = solution.iterations

        let (unscaled, dependencies) = Self.inverseNormalMatrix(solution.jacobian)
        self.dependencies = dependencies
        if let unscaled, degreesOfFreedom > 0 {
            let s2 = solution.sumOfSquares / Double(degreesOfFreedom)
            var c = unscaled
            for i in c.values.indices { c.values[i] *= s2 }
            covariance = c
        } else {
            covariance = nil
        }
        verdict = solution.converged
            ? Self.judge(model: model, parameters: parameters, degreesOfFreedom: degreesOfFreedom,
                         covariance: covariance, dependencies: dependencies, logRange: logRange)
            : .notConverged(solution.termination.rawValue)
    }

    // MARK: Derived numbers

    public var logEC50: Double { parameters[model.logEC50Index] }
    /// The EC50 in the units of the concentrations.
    public var ec50: Double { pow(10, logEC50) }

    /// Asymptotic standard errors (nil without a covariance).
    public var standardErrors: [Double]? { covariance.map { $0.diagonal.map { max($0, 0).squareRoot() } } }

    /// t(0.975, n − p), the multiplier of every 95 % interval (nil without degrees of freedom).
    public var tMultiplier: Double? {
        StudentT(degreesOfFreedom: Double(degreesOfFreedom))?.quantile(0.5 + Self.level / 2)
    }

    /// 95 % CI of each parameter: estimate ± t·SE (nil without a covariance).
    public var confidenceIntervals: [ConfidenceInterval]? {
        guard let se = standardErrors, let t = tMultiplier else { return nil }
        return zip(parameters, se).map { ConfidenceInterval(lower: $0 - t * $1, upper: $0 + t * $1) }
    }

    /// 95 % CI of the EC50: 10^(CI of logEC50), asymmetric as in Prism.
    public var ec50Interval: ConfidenceInterval? {
        confidenceIntervals.map { ci in
            let log = ci[model.logEC50Index]
            return ConfidenceInterval(lower: pow(10, log.lower), upper: pow(10, log.upper))
        }
    }

    /// The EC50 and its CI only when the verdict allows reporting them.
    public var reportableEC50: (ec50: Double, interval: ConfidenceInterval)? {
        guard verdict.isUnambiguous, let ci = ec50Interval else { return nil }
        return (ec50, ci)
    }

    /// The fitted curve at log concentration x.
    public func value(at x: Double) -> Double { model.value(at: x, parameters) }

    /// The 95 % confidence band of the curve at x: ŷ ± t·sqrt(gᵀ·C·g), g = ∂ŷ/∂p (delta method,
    /// as Prism's confidence bands). nil without a covariance.
    public func confidenceBand(at x: Double) -> ConfidenceInterval? {
        guard let c = covariance, let t = tMultiplier else { return nil }
        let half = t * max(c.quadraticForm(model.gradient(at: x, parameters)), 0).squareRoot()
        let y = value(at: x)
        return ConfidenceInterval(lower: y - half, upper: y + half)
    }

    // MARK: Covariance and verdict

    /// (JᵀJ)⁻¹ and the dependencies, inverting the equilibrated D^(−½)·JᵀJ·D^(−½) (D its diagonal)
    /// so that parameters of very different scales do not spoil the Cholesky factorisation.
    static func inverseNormalMatrix(_ j: Matrix) -> (Matrix?, [Double]?) {
        let a = j.gram
        let d = a.diagonal
        guard d.allSatisfy({ $0 > 0 && $0.isFinite }) else { return (nil, nil) }
        let scale = d.map { 1 / $0.squareRoot() }
        var scaled = a
        for r in 0..<a.rows { for c in 0..<a.columns { scaled[r, c] *= scale[r] * scale[c] } }
        guard var inverse = LinearSolve.inverseSPD(scaled) else { return (nil, nil) }
        let dependencies = inverse.diagonal.map { 1 - 1 / $0 }
        for r in 0..<a.rows { for c in 0..<a.columns { inverse[r, c] *= scale[r] * scale[c] } }
        return (inverse, dependencies)
    }

    static func judge(model: DoseResponseModel, parameters: [Double], degreesOfFreedom: Int,
                      covariance: Matrix?, dependencies: [Double]?, logRange: ClosedRange<Double>) -> FitVerdict {
        var reasons: [String] = []
        let names = model.parameterNames
        if degreesOfFreedom <= 0 {
            reasons.append("no degrees of freedom left (\(names.count) parameters for as many points)")
        } else if covariance == nil {
            reasons.append("the parameters are not identifiable (JᵀJ is singular)")
        } else {
            if let dependencies {
                let tangled = zip(names, dependencies).filter { $0.1 > ambiguousDependency }.map(\.0)
                if !tangled.isEmpty {
                    reasons.append("dependency > \(ambiguousDependency) for \(tangled.joined(separator: ", "))")
                }
            }
            if let c = covariance, !c.diagonal.allSatisfy(\.isFinite) {
                reasons.append("a confidence interval is unbounded")
            }
        }
        let logEC50 = parameters[model.logEC50Index]
        if logEC50 < logRange.lowerBound - extrapolationDecades || logEC50 > logRange.upperBound + extrapolationDecades {
            reasons.append(String(format: "logEC50 %.3g is more than %g decade outside the tested range %.3g…%.3g",
                                  logEC50, extrapolationDecades, logRange.lowerBound, logRange.upperBound))
        }
        return reasons.isEmpty ? .unambiguous : .ambiguous(reasons)
    }
}
