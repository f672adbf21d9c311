@testable import Analysis
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

    /// Equal sizes go through the reflection formula (O(n)); it must give the band recursion's p (an
    /// independent algorithm) for every D, from p ≈ 1 down to 1e-300, and stay exact at 50 000 values each.
    func testEqualSizesFormulaAgreesWithTheBandRecursion() throws {
        var worst = 0.0
        for n in [1, 2, 3, 7, 20, 64, 101, 500, 2000] {
            for h in Set([1, 2, 3, n / 10, n / 4, n / 2, 3 * n / 4, n - 1, n]).filter({ $0 >= 1 && $0 <= n }).sorted() {
                let fast = SmirnovDistribution.equalSizes(n: n, h: h), band = SmirnovDistribution.band(m: n, n: n, h: h)
                guard band > 1e-300 else { XCTAssertLessThan(fast, 1e-290, "n \(n) h \(h)"); continue }
                let error = abs(fast - band) / band
                worst = max(worst, error)
                XCTAssertLessThan(error, 1e-10, "n \(n) h \(h): \(fast) vs \(band)")
            }
        }
        print("KS equal sizes: worst relative difference to the band recursion \(worst)")
        let a = (0..<50_000).map { Double($0) }, b = (0..<50_000).map { Double($0) + 250.5 }
        let start = Date()
        let big = try KolmogorovSmirnov.test(a, b)
        XCTAssertEqual(big.method, .exact)
        XCTAssertEqual(big.statistic, 251.0 / 50_000, accuracy: 1e-12)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        // Kolmogorov's limit is close at this size.
        XCTAssertEqual(big.pValue, KolmogorovDistribution.survival(big.statistic * (25_000.0).squareRoot()), accuracy: 2e-3)
    }

    func testRefusesAnEmptySample() {
        XCTAssertThrowsError(try KolmogorovSmirnov.test([], [1])) {
            XCTAssertEqual("\($0)", "KS test is undefined: a sample is empty (0 and 1 values)")
        }
    }
}
