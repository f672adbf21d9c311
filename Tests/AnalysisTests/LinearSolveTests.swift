import Analysis
import XCTest

/// The LAPACK wrappers on systems with known exact answers.
final class LinearSolveTests: XCTestCase {
    /// The 4×4 Hilbert matrix and its exact (integer) inverse.
    let hilbert = Matrix((0..<4).map { i in (0..<4).map { j in 1 / Double(i + j + 1) } })
    let hilbertInverse = Matrix([[16, -120, 240, -140], [-120, 1200, -2700, 1680],
                                 [240, -2700, 6480, -4200], [-140, 1680, -4200, 2800]])

    func testInverseOfHilbert() throws {
        let inverse = try XCTUnwrap(LinearSolve.inverseSPD(hilbert))
        for (a, b) in zip(inverse.values, hilbertInverse.values) { XCTAssertEqual(a, b, accuracy: 1e-9 * abs(b)) }
    }

    func testSolveSPD() throws {
        // b = H·[1, −2, 3, 0.5] so that the solution is known.
        let x = [1, -2, 3, 0.5]
        let solution = try XCTUnwrap(LinearSolve.solveSPD(hilbert, hilbert.times(x)))
        for (a, b) in zip(solution, x) { XCTAssertEqual(a, b, accuracy: 1e-10) }
        XCTAssertEqual(LinearSolve.solveSPD(Matrix([[4, 2], [2, 3]]), [2, 1])!, [0.5, 0], "exact 2×2")
    }

    func testRefusesMatricesThatAreNotPositiveDefinite() {
        XCTAssertNil(LinearSolve.solveSPD(Matrix([[1, 2], [2, 1]]), [1, 1]), "indefinite")
        XCTAssertNil(LinearSolve.inverseSPD(Matrix([[1, 1], [1, 1]])), "singular")
        XCTAssertNil(LinearSolve.inverseSPD(Matrix([[1, .nan], [.nan, 1]])), "not finite")
    }

    func testLeastSquaresLine() throws {
        // A straight line through noisy points against the closed-form regression coefficients.
        let x = [0.0, 1, 2, 3, 4], y = [2.1, 4.9, 8.2, 10.8, 14.1]
        let a = Matrix(x.map { [1, $0] })
        let coefficients = try XCTUnwrap(LinearSolve.leastSquares(a, y))
        let n = Double(x.count), mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        let slope = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        XCTAssertEqual(coefficients[1], slope, accuracy: 1e-13)
        XCTAssertEqual(coefficients[0], my - slope * mx, accuracy: 1e-13)
        XCTAssertNil(LinearSolve.leastSquares(Matrix([[1, 2], [2, 4], [3, 6]]), [1, 2, 3]), "rank deficient")
    }

    func testSymmetricEigenvalues() throws {
        let values = try XCTUnwrap(LinearSolve.symmetricEigenvalues(Matrix([[2, 1, 0], [1, 2, 0], [0, 0, 5]])))
        XCTAssertEqual(values[0], 1, accuracy: 1e-14)
        XCTAssertEqual(values[1], 3, accuracy: 1e-14)
        XCTAssertEqual(values[2], 5, accuracy: 1e-14)
    }
}
