import Analysis
import XCTest

/// The regularised incomplete beta and Student's t against scipy (Fixtures/scipy-reference.json).
final class IncompleteBetaTests: XCTestCase {
    func testMatchesScipyBetaincOverTheGrid() {
        let grid = ScipyReference.shared.betainc
        XCTAssertGreaterThan(grid.count, 1000)
        var worst = 0.0
        for row in grid {
            let (a, b, x, expected) = (row[0], row[1], row[2], row[3])
            guard let value = IncompleteBeta.regularized(a: a, b: b, x: x) else {
                XCTFail("nil for a \(a) b \(b) x \(x)"); continue
            }
            if abs(expected) < 1e-290 {   // underflow region: both must be (almost) zero
                XCTAssertLessThan(abs(value), 1e-290, "a \(a) b \(b) x \(x)")
                continue
            }
            let error = abs(value - expected) / abs(expected)
            worst = max(worst, error)
            XCTAssertLessThanOrEqual(error, 1e-10, "a \(a) b \(b) x \(x): \(value) vs scipy \(expected)")
        }
        print("IncompleteBeta: worst relative error vs scipy.special.betainc \(worst) over \(grid.count) points")
    }

    func testKnownClosedFormsAndDomain() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 − (1−x)^b.
        XCTAssertEqual(IncompleteBeta.regularized(a: 1, b: 1, x: 0.3)!, 0.3, accuracy: 1e-15)
        XCTAssertEqual(IncompleteBeta.regularized(a: 3, b: 1, x: 0.5)!, 0.125, accuracy: 1e-15)
        XCTAssertEqual(IncompleteBeta.regularized(a: 1, b: 4, x: 0.5)!, 1 - 0.0625, accuracy: 1e-15)
        XCTAssertNil(IncompleteBeta.regularized(a: 0, b: 1, x: 0.5))
        XCTAssertNil(IncompleteBeta.regularized(a: 1, b: -1, x: 0.5))
        XCTAssertNil(IncompleteBeta.regularized(a: 1, b: 1, x: 1.5))
        XCTAssertNil(IncompleteBeta.regularized(a: 1, b: 1, x: .nan))
    }

    func testStudentTMatchesScipy() {
        for row in ScipyReference.shared.student_t {
            let (df, t, cdf, p) = (row[0], row[1], row[2], row[3])
            let dist = StudentT(degreesOfFreedom: df)!
            assertClose(dist.twoSidedPValue(t), p, relative: 1e-9, "df \(df) t \(t)")
            // The CDF's lower tail keeps relative digits; its upper part is 1 − tail.
            assertClose(dist.cdf(t), cdf, relative: 1e-9, "cdf df \(df) t \(t)")
        }
        for row in ScipyReference.shared.t_quantiles {
            let (df, p, q) = (row[0], row[1], row[2])
            assertClose(StudentT(degreesOfFreedom: df)!.quantile(p), q, relative: 1e-9, "quantile df \(df) p \(p)")
        }
        XCTAssertNil(StudentT(degreesOfFreedom: 0))
        XCTAssertNil(StudentT(degreesOfFreedom: 3)!.quantile(1))
        XCTAssertEqual(StudentT(degreesOfFreedom: 3)!.twoSidedPValue(.infinity), 0)
    }
}
