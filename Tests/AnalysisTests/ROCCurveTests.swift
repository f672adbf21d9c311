import Analysis
import Foundation
import XCTest

/// The ROC curve and AUC against scikit-learn (Fixtures/roc-reference.json, made by
/// Fixtures/make_roc_reference.py), DeLong's standard error against numpy.
final class ROCCurveTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable {
            let name: String
            let labels: [Int], scores: [Double]
            let auc: Double, fpr: [Double], tpr: [Double], thresholds: [Double?], delong_se: Double
        }
        let sklearn: String
        let cases: [Case]
    }

    func testMatchesScikitLearn() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/roc-reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        XCTAssertEqual(reference.cases.count, 5)
        for c in reference.cases {
            let roc = try ROCCurve(labels: c.labels.map { $0 == 1 }, scores: c.scores)
            XCTAssertEqual(roc.auc, c.auc, accuracy: 1e-12, c.name)
            XCTAssertEqual(roc.falsePositiveRate.count, c.fpr.count, "\(c.name): points")
            for (a, b) in zip(roc.falsePositiveRate, c.fpr) { XCTAssertEqual(a, b, accuracy: 1e-12, c.name) }
            for (a, b) in zip(roc.truePositiveRate, c.tpr) { XCTAssertEqual(a, b, accuracy: 1e-12, c.name) }
            for (a, b) in zip(roc.thresholds.dropFirst(), c.thresholds.dropFirst()) { XCTAssertEqual(a, b ?? .infinity, accuracy: 1e-9, c.name) }
            XCTAssertEqual(roc.standardError, c.delong_se, accuracy: 1e-12, "\(c.name): DeLong SE")
            XCTAssertTrue(roc.interval95.contains(roc.auc))
        }
    }

    func testOneClassIsRefused() {
        XCTAssertThrowsError(try ROCCurve(labels: [true, true], scores: [0.1, 0.2])) {
            XCTAssertTrue("\($0)".contains("needs both classes"), "\($0)")
        }
    }
}
