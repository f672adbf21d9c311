import Analysis
import XCTest

/// Mean, variance, median and numpy's default quantiles against numpy.
final class StatisticsTests: XCTestCase {
    func testMatchesNumpy() throws {
        for c in ScipyReference.shared.statistics {
            assertClose(try Statistics.mean(c.x), c.mean, relative: 1e-14, c.name)
            assertClose(try Statistics.variance(c.x, ddof: 0), c.var0, relative: 1e-13, c.name)
            if let var1 = c.var1 {
                assertClose(try Statistics.variance(c.x), var1, relative: 1e-13, c.name)
                assertClose(try Statistics.standardDeviation(c.x), var1.squareRoot(), relative: 1e-13, c.name)
            } else {
                XCTAssertThrowsError(try Statistics.variance(c.x)) {
                    XCTAssertEqual("\($0)", "variance is undefined: 1 value with ddof 1")
                }
            }
            XCTAssertEqual(try Statistics.median(c.x), c.median, c.name)
            let qs = try Statistics.quantiles(c.x, c.ps)
            for (k, p) in c.ps.enumerated() {
                assertClose(qs[k], c.quantiles[k], relative: 1e-14, "\(c.name) p \(p)")
            }
        }
    }

    func testRefusesEmptyAndBadInput() {
        XCTAssertThrowsError(try Statistics.mean([])) { XCTAssertEqual("\($0)", "mean is undefined: no values") }
        XCTAssertThrowsError(try Statistics.median([1, .infinity]))
        XCTAssertThrowsError(try Statistics.quantile([1, 2], 1.5)) { XCTAssertEqual("\($0)", "quantile 1.5 is outside 0…1") }
    }
}
