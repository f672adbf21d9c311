import Foundation

/// Prism's "Is logEC50 different between data sets?": the extra-sum-of-squares F test between
/// the groups fitted separately (every parameter per group) and a global fit in which they share
/// one logEC50 (the other parameters still per group).
/// F = ((SSR_shared − SSR_separate)/(df_shared − df_separate)) / (SSR_separate/df_separate).
public struct EC50Comparison: Sendable {
    public let model: DoseResponseModel
    /// The separate fits, in group order.
    public let separateFits: [DoseResponseFit]
    public let separateSumOfSquares: Double
    public let separateDegreesOfFreedom: Int
    /// The shared-logEC50 fit: [logEC50, then each group's other parameters in model order].
    public let sharedParameters: [Double]
    public let sharedSumOfSquares: Double
    public let sharedDegreesOfFreedom: Int
    public let f: Double
    public let pValue: Double

    public var sharedLogEC50: Double { sharedParameters[0] }
    /// (numerator, denominator) degrees of freedom of F: (groups − 1, n − groups·p).
    public var fDegreesOfFreedom: (numerator: Int, denominator: Int) {
        (sharedDegreesOfFreedom - separateDegreesOfFreedom, separateDegreesOfFreedom)
    }

    /// Throws when fewer than two groups are given, a group cannot be fitted, a fit (separate or
    /// shared) does not converge, no degrees of freedom are left for the separate fits, or those
    /// fit exactly. Ambiguous separate fits are compared all the same (as Prism does).
    public static func compare(_ groups: [(label: String, data: DoseResponseData)],
                               model: DoseResponseModel = .fourParameter,
                               solver: LevenbergMarquardt = LevenbergMarquardt()) throws -> EC50Comparison {
        guard groups.count >= 2 else { throw StatisticsError("EC50 comparison: needs at least two groups, got \(groups.count)") }
        var fits: [DoseResponseFit] = []
        for (label, data) in groups {
            let fit: DoseResponseFit
            do { fit = try DoseResponseFit.fit(data, model: model, solver: solver) } catch let error as StatisticsError {
                throw StatisticsError("EC50 comparison: group \(label): \(error.problem)")
            }
            if case .notConverged(let why) = fit.verdict {
                throw StatisticsError("EC50 comparison: group \(label): the fit did not converge (\(why))")
            }
            fits.append(fit)
        }
        let n = groups.reduce(0) { $0 + $1.data.responses.count }
        let k = groups.count, p = model.parameterCount, li = model.logEC50Index
        let separateDF = n - k * p, sharedDF = n - (k * (p - 1) + 1)
        guard separateDF > 0 else {
            throw StatisticsError("EC50 comparison: \(n) points leave no degrees of freedom for \(k) separate \(model.rawValue) fits")
        }

        // Group g's own parameters in the shared vector: 1 + g·(p − 1) ..< 1 + (g + 1)·(p − 1).
        func groupParameters(_ shared: [Double], _ g: Int) -> [Double] {
            var own = Array(shared[(1 + g * (p - 1))..<(1 + (g + 1) * (p - 1))])
            own.insert(shared[0], at: li)
            return own
        }
        let points = groups.enumerated().flatMap { g, group in
            zip(group.data.logConcentrations, group.data.responses).map { (g, $0, $1) }
        }
        let problem = LeastSquaresProblem(
            residualCount: n, parameterCount: k * (p - 1) + 1,
            residuals: { shared in points.map { g, x, y in model.value(at: x, groupParameters(shared, g)) - y } },
            jacobian: { shared in
                var j = Matrix(rows: n, columns: k * (p - 1) + 1)
                for (row, (g, x, _)) in points.enumerated() {
                    var gradient = model.gradient(at: x, groupParameters(shared, g))
                    j[row, 0] = gradient.remove(at: li)
                    for (c, v) in gradient.enumerated() { j[row, 1 + g * (p - 1) + c] = v }
                }
                return j
            })
        // Start from the separate fits, with logEC50 their mean.
        var start = [fits.map(\.logEC50).reduce(0, +) / Double(k)]
        for fit in fits {
            var own = fit.parameters
            own.remove(at: li)
            start += own
        }
        let shared = solver.minimize(problem, from: start)
        guard shared.converged else {
            throw StatisticsError("EC50 comparison: the shared-logEC50 fit did not converge (\(shared.termination.rawValue))")
        }
        let separateSS = fits.reduce(0) { $0 + $1.sumOfSquares }
        guard separateSS > 0 else { throw StatisticsError("EC50 comparison: the separate fits are exact (no residual scatter): F is undefined") }
        // The shared model is nested: a smaller SSR than the separate fits' is rounding; F is then 0.
        let f = max(shared.sumOfSquares - separateSS, 0) / Double(sharedDF - separateDF) / (separateSS / Double(separateDF))
        let pValue = FDistribution(numerator: Double(sharedDF - separateDF), denominator: Double(separateDF))!.sf(f)
        return EC50Comparison(model: model, separateFits: fits, separateSumOfSquares: separateSS,
                              separateDegreesOfFreedom: separateDF, sharedParameters: shared.parameters,
                              sharedSumOfSquares: shared.sumOfSquares, sharedDegreesOfFreedom: sharedDF,
                              f: f, pValue: pValue)
    }
}
