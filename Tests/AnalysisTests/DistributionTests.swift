import Analysis
import XCTest

/// Normal, χ², F and Student-t tails against scipy for p from 1e-12 to 0.5
/// (Fixtures/dose-response-reference.json): 1e-9 relative, the acceptance bound of issue 11.
final class DistributionTests: XCTestCase {
    let reference = DoseResponseReference.shared

    func testNormalMatchesScipy() {
        var worst = 0.0
        for row in reference.normal {
            let (p, upper, sf, lower, cdf) = (row[0], row[1], row[2], row[3], row[4])
            worst = max(worst, check(NormalDistribution.sf(upper), sf, "normal sf(\(upper))"))
            worst = max(worst, check(NormalDistribution.cdf(lower), cdf, "normal cdf(\(lower))"))
            if lower != 0 {
                assertClose(NormalDistribution.quantile(p), lower, relative: 1e-9, "normal quantile(\(p))")
                assertClose(NormalDistribution.upperQuantile(p), upper, relative: 1e-9, "normal upperQuantile(\(p))")
            } else {
                XCTAssertEqual(NormalDistribution.quantile(p)!, 0, accuracy: 1e-15)
            }
        }
        print("Normal: worst relative error vs scipy \(worst) over \(reference.normal.count) points")
        XCTAssertEqual(NormalDistribution.quantile(0), -.infinity)
        XCTAssertNil(NormalDistribution.quantile(1.5))
        XCTAssertEqual(NormalDistribution.quantile(0.975)!, 1.959963984540054, accuracy: 1e-14)
    }

    func testChiSquaredMatchesScipy() {
        var worst = 0.0
        for row in reference.chi2 {
            let chi = ChiSquared(degreesOfFreedom: row[0])!
            worst = max(worst, check(chi.sf(row[2]), row[3], "chi2(\(row[0])) sf(\(row[2]))"))
            worst = max(worst, check(chi.cdf(row[4]), row[5], "chi2(\(row[0])) cdf(\(row[4]))"))
        }
        print("ChiSquared: worst relative error vs scipy \(worst) over \(reference.chi2.count) rows")
        // Closed forms: k = 2 is exponential with mean 2; P(1, x) = 1 − e^(−x).
        assertClose(ChiSquared(degreesOfFreedom: 2)!.sf(3), exp(-1.5), relative: 1e-15)
        assertClose(IncompleteGamma.lower(a: 1, x: 0.25), -expm1(-0.25), relative: 1e-15)
        XCTAssertNil(ChiSquared(degreesOfFreedom: 0))
        XCTAssertNil(IncompleteGamma.upper(a: -1, x: 1))
        XCTAssertEqual(ChiSquared(degreesOfFreedom: 3)!.sf(0), 1)
    }

    func testFMatchesScipy() {
        var worst = 0.0
        for row in reference.f {
            let dist = FDistribution(numerator: row[0], denominator: row[1])!
            worst = max(worst, check(dist.sf(row[3]), row[4], "F(\(row[0]), \(row[1])) sf(\(row[3]))"))
            worst = max(worst, check(dist.cdf(row[5]), row[6], "F(\(row[0]), \(row[1])) cdf(\(row[5]))"))
        }
        print("F: worst relative error vs scipy \(worst) over \(reference.f.count) rows")
        // F(1, ν) is t² with ν degrees of freedom.
        let t = StudentT(degreesOfFreedom: 7)!
        XCTAssertEqual(FDistribution(numerator: 1, denominator: 7)!.sf(2.5 * 2.5), t.twoSidedPValue(2.5), accuracy: 1e-15)
        XCTAssertNil(FDistribution(numerator: 1, denominator: 0))
        XCTAssertEqual(FDistribution(numerator: 2, denominator: 3)!.sf(-1), 1)
    }

    func testStudentTTailsMatchScipy() {
        var worst = 0.0
        for row in reference.t {
            let dist = StudentT(degreesOfFreedom: row[0])!
            worst = max(worst, check(dist.sf(row[2]), row[3], "t(\(row[0])) sf(\(row[2]))"))
            worst = max(worst, check(dist.cdf(row[4]), row[5], "t(\(row[0])) cdf(\(row[4]))"))
        }
        print("StudentT: worst relative error vs scipy \(worst) over \(reference.t.count) rows")
    }

    /// Asserts 1e-9 relative and returns the relative error.
    private func check(_ actual: Double, _ expected: Double, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) -> Double {
        assertClose(actual, expected, relative: 1e-9, what, file: file, line: line)
        return abs(actual - expected) / abs(expected)
    }
}
