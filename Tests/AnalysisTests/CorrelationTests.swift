import Analysis
import XCTest

/// Pearson r, Fisher-z CI and t-test p against scipy.stats.pearsonr, and against the paper.
final class CorrelationTests: XCTestCase {
    /// Elsherif et al. 2019, Fig. 1C: an ImageJ rule reached r = 0.42 (non-NETotic) and r = 0.74
    /// (NETotic) on 44 images, with 95 % CIs 0.14–0.64 and 0.57–0.85.
    func testFisherIntervalReproducesThePaper() {
        let nonNETotic = Correlation.fisherInterval(r: 0.42, n: 44)
        XCTAssertEqual((nonNETotic.lower * 100).rounded() / 100, 0.14)
        XCTAssertEqual((nonNETotic.upper * 100).rounded() / 100, 0.64)
        let netotic = Correlation.fisherInterval(r: 0.74, n: 44)
        XCTAssertEqual((netotic.lower * 100).rounded() / 100, 0.57)
        XCTAssertEqual((netotic.upper * 100).rounded() / 100, 0.85)
    }

    func testMatchesScipyPearsonr() throws {
        let cases = ScipyReference.shared.pearson
        XCTAssertGreaterThanOrEqual(cases.count, 9)
        for c in cases {
            let result = try Correlation.pearson(c.x, c.y)
            XCTAssertEqual(result.n, c.x.count)
            assertClose(result.r, c.r, relative: 1e-12, "r \(c.name)")
            // From scipy's own r, the interval and p are functions of (r, n) alone: tight tolerances.
            let (low, high) = Correlation.fisherInterval(r: c.r, n: c.x.count)
            assertClose(low, c.ci_low, relative: 1e-12, "ci low \(c.name)")
            assertClose(high, c.ci_high, relative: 1e-12, "ci high \(c.name)")
            let p = Correlation.pValue(r: c.r, n: c.x.count)
            assertClose(p, c.p_exact, relative: 1e-12, "p vs mpmath \(c.name)")
            // scipy forms (1 + r)/2, whose rounding p amplifies (n−2)/2-fold relative to 1 − |r|:
            // within 1e-6 of |r| = 1 its own p carries only ~7 digits (mpmath above is the judge).
            assertClose(p, c.p, relative: 1 - abs(c.r) > 1e-6 ? 1e-9 : 1e-6, "p vs scipy \(c.name)")
            // From our r: p of a near-perfect correlation moves with the last bits of r
            // (p ∝ (1 − r)^((n−2)/2)), so the end-to-end check is looser.
            assertClose(result.pValue, c.p, relative: 1e-6, "end-to-end p \(c.name)")
            assertClose(result.lower95, c.ci_low, relative: 1e-9, "end-to-end ci \(c.name)")
        }
    }

    func testTStatisticAndSignOfANegativeCorrelation() throws {
        let c = try Correlation.pearson([1, 2, 3, 4, 5], [10, 8, 9, 4, 2] as [Double])
        XCTAssertLessThan(c.r, 0)
        XCTAssertLessThan(c.upper95, 0.5)
        XCTAssertEqual(c.t, c.r * (3 / (1 - c.r * c.r)).squareRoot(), accuracy: 1e-12)
        // The t test's p from the t distribution agrees with the beta form used by pValue.
        XCTAssertEqual(StudentT(degreesOfFreedom: 3)!.twoSidedPValue(c.t), c.pValue, accuracy: 1e-14)
    }

    func testUndefinedCasesSaySo() {
        XCTAssertThrowsError(try Correlation.pearson([1, 2] as [Double], [3, 4])) { error in
            XCTAssertEqual("\(error)", "r is undefined: 2 pairs, need at least 3")
        }
        XCTAssertThrowsError(try Correlation.pearson([1, 2, 3] as [Double], [3, 4])) { error in
            XCTAssertEqual("\(error)", "r is undefined: 3 values paired with 2")
        }
        XCTAssertThrowsError(try Correlation.pearson([1, 2, 3] as [Int], [0, 0, 0])) { error in
            XCTAssertEqual("\(error)", "r is undefined: the second sample is constant (all 0)")
        }
        XCTAssertThrowsError(try Correlation.pearson([5, 5, 5] as [Int], [0, 0, 0])) { error in
            XCTAssertEqual("\(error)", "r is undefined: both samples are constant (all 5)")
        }
        XCTAssertThrowsError(try Correlation.pearson([1, .nan, 3], [1, 2, 3]))
    }

    func testPerfectCorrelationHasAPointIntervalAndZeroP() throws {
        let up = try Correlation.pearson([1, 2, 3, 4] as [Double], [3, 5, 7, 9])
        XCTAssertEqual(up.r, 1)
        XCTAssertEqual(up.lower95, 1); XCTAssertEqual(up.upper95, 1)
        XCTAssertEqual(up.pValue, 0)
        let down = try Correlation.pearson([1, 2, 3, 4] as [Double], [9, 7, 5, 3])
        XCTAssertEqual(down.r, -1)
        XCTAssertEqual(down.lower95, -1); XCTAssertEqual(down.upper95, -1)
        // Three pairs: the Fisher interval has infinite width.
        XCTAssertEqual(Correlation.fisherInterval(r: 0.5, n: 3).lower, -1)
        XCTAssertEqual(Correlation.fisherInterval(r: 0.5, n: 3).upper, 1)
    }
}
