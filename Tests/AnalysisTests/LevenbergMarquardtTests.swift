import Analysis
import XCTest

/// The generic solver on problems with known minima, and its non-convergence reports.
final class LevenbergMarquardtTests: XCTestCase {
    /// Rosenbrock as least squares: r = (10(p₁ − p₀²), 1 − p₀), minimum 0 at (1, 1).
    let rosenbrock = LeastSquaresProblem(
        residualCount: 2, parameterCount: 2,
        residuals: { p in [10 * (p[1] - p[0] * p[0]), 1 - p[0]] },
        jacobian: { p in Matrix([[-20 * p[0], 10], [-1, 0]]) })

    func testRosenbrockFromTheClassicStart() {
        let solution = LevenbergMarquardt().minimize(rosenbrock, from: [-1.2, 1])
        XCTAssertTrue(solution.converged, "\(solution.termination)")
        XCTAssertEqual(solution.parameters[0], 1, accuracy: 1e-10)
        XCTAssertEqual(solution.parameters[1], 1, accuracy: 1e-10)
        XCTAssertLessThan(solution.sumOfSquares, 1e-20)
    }

    func testExponentialDecayWithNoiseMatchesTheLinearisedOptimum() {
        // y = 5·e^(−0.7x) with fixed perturbations; at the optimum Jᵀr = 0.
        let x = (0..<10).map { Double($0) / 2 }
        let noise = [0.03, -0.02, 0.01, 0.04, -0.05, 0.02, -0.01, 0.0, 0.015, -0.025]
        let y = zip(x, noise).map { 5 * exp(-0.7 * $0) + $1 }
        let problem = LeastSquaresProblem(
            residualCount: x.count, parameterCount: 2,
            residuals: { p in zip(x, y).map { p[0] * exp(-p[1] * $0) - $1 } },
            jacobian: { p in Matrix(x.map { [exp(-p[1] * $0), -p[0] * $0 * exp(-p[1] * $0)] }) })
        let solution = LevenbergMarquardt().minimize(problem, from: [1, 0.1])
        XCTAssertTrue(solution.converged, "\(solution.termination)")
        let gradient = solution.jacobian.transposeTimes(solution.residuals)
        XCTAssertLessThan(gradient.map(abs).max()!, 1e-10, "gradient \(gradient)")
        XCTAssertEqual(solution.parameters[0], 5, accuracy: 0.05)
        XCTAssertEqual(solution.parameters[1], 0.7, accuracy: 0.01)
    }

    func testReportsTheIterationLimit() {
        let solution = LevenbergMarquardt(maxIterations: 2).minimize(rosenbrock, from: [-1.2, 1])
        XCTAssertFalse(solution.converged)
        XCTAssertEqual(solution.termination, .iterationLimit)
    }

    func testReportsANonFiniteStart() {
        let problem = LeastSquaresProblem(residualCount: 1, parameterCount: 1,
                                          residuals: { p in [log(p[0])] }, jacobian: { p in Matrix([[1 / p[0]]]) })
        let solution = LevenbergMarquardt().minimize(problem, from: [-1])
        XCTAssertEqual(solution.termination, .nonFinite)
        XCTAssertFalse(solution.converged)
    }
}
