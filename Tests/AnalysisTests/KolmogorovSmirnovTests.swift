import Analysis
import XCTest

/// Two-sample KS test against scipy.stats.ks_2samp (exact) and scipy.stats.kstwobign (asymptotic).
final class KolmogorovSmirnovTests: XCTestCase {
    func testMatchesScipy() throws {
        for c in ScipyReference.shared.ks_2samp {
            let (a, b) = c.samples
            let auto = try KolmogorovSmirnov.test(a, b)
            XCTAssertEqual(auto.n1, a.count); XCTAssertEqual(auto.n2, b.count)
            assertClose(auto.statistic, c.statistic, relative: 1e-14, c.name)
            if max(a.count, b.count) <= KolmogorovSmirnov.exactLimit {
                XCTAssertEqual(auto.method, .exact, c.name)
                assertClose(auto.pValue, c.p_auto, relative: 1e-9, "exact p \(c.name)")
            } else {
                XCTAssertEqual(auto.method, .asymptotic, c.name)
            }
            // Our asymptotic p is Kolmogorov's limit; scipy ≥ 1.5 uses kstwo(round(mn/(m+n))) instead.
            let asymptotic = try KolmogorovSmirnov.test(a, b, method: .asymptotic)
            assertClose(asymptotic.pValue, c.p_kstwobign, relative: 1e-12, "kstwobign \(c.name)")
        }
    }

    func testSymmetricInTheSamplesAndTheOrderOfValues() throws {
        let c = ScipyReference.shared.ks_2samp.first { $0.name == "n30_n45" }!
        let forward = try KolmogorovSmirnov.test(c.a!, c.b!)
        let swapped = try KolmogorovSmirnov.test(c.b!.reversed(), c.a!.shuffled())
        XCTAssertEqual(forward.statistic, swapped.statistic)
        XCTAssertEqual(forward.pValue, swapped.pValue, accuracy: 1e-15)
    }

    func testExactPathStaysFastAtTheLimit() throws {
        // 10 000 against 9 999 values: lcm ≈ 1e8, the band recursion must still take well under a second.
        let a = (0..<10_000).map { Double($0) / 10_000 }
        let b = (0..<9_999).map { pow(Double($0) / 9_999, 1.05) }
        let start = Date()
        let result = try KolmogorovSmirnov.test(a, b)
        XCTAssertEqual(result.method, .exact)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertGreaterThan(result.pValue, 0); XCTAssertLessThanOrEqual(result.pValue, 1)
    }

    func testRefusesAnEmptySample() {
        XCTAssertThrowsError(try KolmogorovSmirnov.test([], [1])) {
            XCTAssertEqual("\($0)", "KS test is undefined: a sample is empty (0 and 1 values)")
        }
    }
}
