import Analysis
import XCTest

/// Two-sample KS test against scipy.stats.ks_2samp(method='exact') and scipy.stats.kstwobign.
final class KolmogorovSmirnovTests: XCTestCase {
    func testMatchesScipy() throws {
        for c in ScipyReference.shared.ks_2samp {
            let (a, b) = c.samples
            let auto = try KolmogorovSmirnov.test(a, b)
            XCTAssertEqual(auto.n1, a.count); XCTAssertEqual(auto.n2, b.count)
            assertClose(auto.statistic, c.statistic, relative: 1e-14, c.name)
            XCTAssertEqual(auto.method, .exact, c.name)
            assertClose(auto.pValue, c.p_exact, relative: 1e-9, "exact p \(c.name)")
            if max(a.count, b.count) <= 10_000 {   // where scipy's 'auto' is exact too
                assertClose(auto.pValue, c.p_auto, relative: 1e-9, "scipy auto p \(c.name)")
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

    func testAutoIsExactUpTo10000AgainstAnyDAndAsymptoticWhenTooCostly() throws {
        // 10 000 against 9 999 values (lcm ≈ 1e8) with D = 1, the most costly case `auto` keeps exact.
        let a = (0..<10_000).map { Double($0) }
        let b = (0..<9_999).map { 20_000 + Double($0) }
        let start = Date()
        let apart = try KolmogorovSmirnov.test(a, b)
        XCTAssertEqual(apart.method, .exact)
        XCTAssertEqual(apart.statistic, 1)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertLessThan(apart.pValue, 1e-300)
        // 40 000 against 30 000 values, D = 1: beyond the work limit, Kolmogorov's limit.
        let far = try KolmogorovSmirnov.test((0..<40_000).map(Double.init), (0..<30_000).map { 1e6 + Double($0) })
        XCTAssertEqual(far.method, .asymptotic)
        XCTAssertEqual(far.pValue, 0)
    }

    func testRefusesAnEmptySample() {
        XCTAssertThrowsError(try KolmogorovSmirnov.test([], [1])) {
            XCTAssertEqual("\($0)", "KS test is undefined: a sample is empty (0 and 1 values)")
        }
    }
}
