import Foundation
import XCTest

/// The reference numbers in Fixtures/scipy-reference.json (made by Fixtures/make_reference.py).
struct ScipyReference: Decodable {
    struct Pearson: Decodable {
        let name: String
        let x: [Double], y: [Double]
        let r: Double, p: Double, p_exact: Double, ci_low: Double, ci_high: Double
    }
    struct Agreement: Decodable {
        let name: String
        let predicted: [Double], manual: [Double]
        let mae: Double, bias: Double, sd: Double, loa_low: Double, loa_high: Double
        let bias_ci_low: Double, bias_ci_high: Double, mae_percent: Double
    }
    struct Sample: Decodable {
        let name: String
        let x: [Double]
        let mean: Double, var0: Double, var1: Double?, median: Double
        let ps: [Double], quantiles: [Double]
    }
    struct KS: Decodable {
        struct Generated: Decodable { let a_count: Int, b_count: Int, b_power: Double }
        let name: String
        let a: [Double]?, b: [Double]?
        let generated: Generated?
        let statistic: Double, p_auto: Double, p_exact: Double, p_asymp_scipy: Double?, p_kstwobign: Double

        /// The two samples, rebuilt from their recipe when too large to store.
        var samples: (a: [Double], b: [Double]) {
            if let a, let b { return (a, b) }
            let g = generated!
            return ((0..<g.a_count).map { (Double($0) + 0.5) / Double(g.a_count) },
                    (0..<g.b_count).map { pow((Double($0) + 0.5) / Double(g.b_count), g.b_power) })
        }
    }
    let scipy: String
    /// [a, b, x, I_x(a, b)]
    let betainc: [[Double]]
    /// [df, t, cdf, two-sided p]
    let student_t: [[Double]]
    /// [df, p, quantile]
    let t_quantiles: [[Double]]
    let pearson: [Pearson]
    let agreement: [Agreement]
    let statistics: [Sample]
    let ks_2samp: [KS]

    static let shared: ScipyReference = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/scipy-reference.json")
        do {
            return try JSONDecoder().decode(ScipyReference.self, from: Data(contentsOf: url))
        } catch {
            fatalError("\(url.path): \(error)")
        }
    }()
}

/// |actual − expected| ≤ relative·|expected| (or ≤ relative when expected is 0).
func assertClose(_ actual: Double?, _ expected: Double, relative: Double, _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    guard let actual else { return XCTFail("nil, expected \(expected) \(message())", file: file, line: line) }
    let tolerance = relative * max(abs(expected), expected == 0 ? 1 : 0)
    XCTAssert(abs(actual - expected) <= tolerance,
              "\(actual) vs \(expected) (rel. error \(abs(actual - expected) / max(abs(expected), 1e-300))) \(message())",
              file: file, line: line)
}
