import Neural
import XCTest

/// Metrics against a confusion matrix computed by hand.
final class ConfusionMatrixTests: XCTestCase {
    func testMetricsOfAHandComputedMatrix() {
        // rows true, columns predicted:  [5 1 0; 2 6 2; 0 1 3]
        let m = ConfusionMatrix(classes: 3, counts: [5, 1, 0, 2, 6, 2, 0, 1, 3])
        XCTAssertEqual(m.total, 20)
        XCTAssertEqual(m.accuracy, 14.0 / 20, accuracy: 1e-12)
        XCTAssertEqual(m.recall[0], 5.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m.recall[1], 6.0 / 10, accuracy: 1e-12)
        XCTAssertEqual(m.recall[2], 3.0 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.precision[0], 5.0 / 7, accuracy: 1e-12)   // column sums 7, 8, 5
        XCTAssertEqual(m.precision[1], 6.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(m.precision[2], 3.0 / 5, accuracy: 1e-12)
        XCTAssertEqual(m.f1[1], 2 * 0.75 * 0.6 / 1.35, accuracy: 1e-12)
        XCTAssertEqual(m.balancedAccuracy, (5.0 / 6 + 0.6 + 0.75) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.rowNormalized[1], [0.2, 0.6, 0.2])
        // A class never seen: its recall is undefined and balanced accuracy skips it.
        let empty = ConfusionMatrix(classes: 2, counts: [3, 1, 0, 0])
        XCTAssertTrue(empty.recall[1].isNaN)
        XCTAssertEqual(empty.balancedAccuracy, 0.75, accuracy: 1e-12)
    }

    func testLogitsAreCountedByArgMaxWithTheirCrossEntropy() {
        var m = ConfusionMatrix(classes: 3)
        let logits: [Float] = [2, 0, 0, 0, 0, 1]
        m.add(logits: logits, labels: [0, 1])
        XCTAssertEqual(m.counts, [1, 0, 0, 0, 0, 1, 0, 0, 0])
        let expected = (log(exp(2.0) + 2) - 2) + (log(2 + exp(1.0)) - 0)
        XCTAssertEqual(m.lossSum, expected, accuracy: 1e-6)
    }
}
