import Analysis
import Foundation
import XCTest

/// The per-class report of `netosis counts`: its numbers (scipy) and its JSON shape.
final class CountComparisonTests: XCTestCase {
    let classes = ["non-NETotic", "NETotic", "other"]

    /// Builds per-image tables from the 44-image scipy cases: non-NETotic from one case, NETotic from
    /// the other; "other" is never annotated (all zero), so its r is undefined.
    func tables() -> (predicted: [String: [Int]], manual: [String: [Int]]) {
        let reference = ScipyReference.shared.pearson
        let a = reference.first { $0.name == "n44_rho042_counts" }!
        let b = reference.first { $0.name == "n44_rho074_counts" }!
        var predicted: [String: [Int]] = [:], manual: [String: [Int]] = [:]
        for i in 0..<44 {
            let name = "plate01_\(["B", "C", "D", "E"][i / 11])\(String(format: "%02d", i % 11 + 1))"
            predicted[name] = [Int(a.x[i]), Int(b.x[i]), i % 3]
            manual[name] = [Int(a.y[i]), Int(b.y[i]), 0]
        }
        predicted["plate01_H12"] = [1, 2, 3]   // screened but not annotated
        manual["plate02_A01"] = [4, 5, 0]      // annotated but not screened
        return (predicted, manual)
    }

    func testPerClassStatisticsMatchScipy() throws {
        let (predicted, manual) = tables()
        let report = try CountComparison.compare(classes: classes, predicted: predicted, manual: manual)
        XCTAssertEqual(report.classes.map(\.className), classes)
        XCTAssertEqual(report.images.count, 44)
        XCTAssertEqual(report.images.map(\.image), report.images.map(\.image).sorted())
        XCTAssertEqual(report.imagesWithoutManual, ["plate01_H12"])
        XCTAssertEqual(report.imagesWithoutPrediction, ["plate02_A01"])
        for (className, caseName) in [("non-NETotic", "n44_rho042_counts"), ("NETotic", "n44_rho074_counts")] {
            let reference = ScipyReference.shared.pearson.first { $0.name == caseName }!
            let c = report.agreement(of: className)!
            XCTAssertEqual(c.n, 44)
            assertClose(c.pearsonR, reference.r, relative: 1e-12, className)
            assertClose(c.rLower95, reference.ci_low, relative: 1e-9, className)
            assertClose(c.rUpper95, reference.ci_high, relative: 1e-9, className)
            assertClose(c.pValue, reference.p, relative: 1e-8, className)
            XCTAssertNil(c.rUndefinedReason)
            let d = zip(reference.x, reference.y).map { $0 - $1 }
            assertClose(c.meanAbsoluteError, d.map(abs).reduce(0, +) / 44, relative: 1e-12, className)
        }
        let other = report.agreement(of: "other")!
        XCTAssertNil(other.pearsonR); XCTAssertNil(other.pValue)
        XCTAssertEqual(other.rUndefinedReason, "r is undefined: the second sample is constant (all 0)")
        XCTAssertNil(other.meanAbsoluteErrorPercent)
        XCTAssertEqual(other.manualMean, 0)
    }

    func testJSONHasStableSnakeCaseKeysWithNullsAndRoundTrips() throws {
        let report = try CountComparison.compare(
            classes: ["non-NETotic", "NETotic"],
            predicted: ["p1_B03": [10, 2], "p1_B04": [12, 0], "p1_B05": [7, 5]],
            manual: ["p1_B03": [9, 2], "p1_B04": [13, 0], "p1_B05": [7, 4]])
        let data = try report.jsonData()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("}\n"))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        XCTAssertEqual(object.keys.sorted(), ["classes", "format", "format_version", "images",
                                              "images_without_manual", "images_without_prediction"])
        XCTAssertEqual(object["format"] as? String, "netosis-counts")
        let first = (object["classes"] as! [[String: Any]])[0]
        XCTAssertEqual(first.keys.sorted(), ["bias", "bias_ci95_high", "bias_ci95_low", "class", "loa_high", "loa_low",
                                             "mae", "mae_percent", "manual_mean", "n", "p_value", "pearson_r",
                                             "predicted_mean", "r_ci95_high", "r_ci95_low", "r_undefined_reason",
                                             "sd_differences"])
        XCTAssertTrue(first["r_undefined_reason"] is NSNull)
        let image = (object["images"] as! [[String: Any]])[0]
        XCTAssertEqual(image["image"] as? String, "p1_B03")
        XCTAssertEqual(image["predicted"] as? [String: Int], ["non-NETotic": 10, "NETotic": 2])
        // Keys are written sorted, so the same report gives the same bytes.
        let classKeys = text.components(separatedBy: "\n").filter { $0.hasPrefix("      \"") }.prefix(17)
            .map { $0.trimmingCharacters(in: .whitespaces).components(separatedBy: "\"")[1] }
        XCTAssertEqual(Array(classKeys), classKeys.sorted())
        XCTAssertEqual(try CountReport.decode(data), report)
        XCTAssertEqual(try report.jsonData(), data)
    }

    func testRefusesInconsistentTables() {
        XCTAssertThrowsError(try CountComparison.compare(classes: classes, predicted: ["a": [1, 2]], manual: ["a": [1, 2, 3]])) {
            XCTAssertEqual("\($0)", "image a: 2 predicted counts for 3 classes (non-NETotic, NETotic, other)")
        }
        XCTAssertThrowsError(try CountComparison.compare(classes: ["x"], predicted: ["a": [1]], manual: ["b": [1]])) {
            XCTAssertEqual("\($0)", "count comparison: no image has both predicted and manual counts (1 predicted, 1 manual)")
        }
        XCTAssertThrowsError(try CountComparison.compare(classes: ["x"], predicted: ["a": [-1]], manual: ["a": [1]])) {
            XCTAssertEqual("\($0)", "image a: predicted count -1 is negative")
        }
        XCTAssertThrowsError(try CountComparison.compare(classes: ["x", "x"], predicted: [:], manual: [:]))
    }

    func testRefusesAReportOfANewerVersion() throws {
        let newer = Data(#"{"format":"netosis-counts","format_version":2,"classes":[],"images":[],"images_without_manual":[],"images_without_prediction":[]}"#.utf8)
        XCTAssertThrowsError(try CountReport.decode(newer))
    }
}
