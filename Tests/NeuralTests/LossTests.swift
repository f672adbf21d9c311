import XCTest
@testable import Neural

final class LossTests: XCTestCase {
    func checkLoss(_ loss: ClassificationLoss, name: String) {
        let (batch, classes) = (5, 3)
        var logits = randomArray(batch * classes, seed: 21, scale: 2)
        let labels = [0, 2, 1, 2, 0]
        var grad = [Float](repeating: 0, count: logits.count)
        _ = loss(logits: logits, labels: labels, classes: classes, gradient: &grad)
        let numeric = GradientCheck.numeric(indices: Array(0..<batch * classes), step: 1e-3,
                                            get: { logits[$0] }, set: { logits[$0] = $1 }) {
            loss(logits: logits, labels: labels, classes: classes, gradient: nil)
        }
        XCTAssertLessThan(GradientCheck.relativeError(grad.map(Double.init), numeric), 1e-3, name)
    }

    func testCrossEntropyGradients() {
        checkLoss(SoftmaxCrossEntropy(), name: "cross-entropy")
        checkLoss(SoftmaxCrossEntropy(classWeights: [0.2, 1, 3]), name: "weighted cross-entropy")
    }

    func testFocalLossGradients() {
        checkLoss(FocalLoss(gamma: 2), name: "focal γ=2")
        checkLoss(FocalLoss(gamma: 1.5, alpha: [0.25, 0.5, 1]), name: "focal γ=1.5 α")
    }

    func testLossValues() {
        let uniform: [Float] = [0, 0, 0, 1, 1, 1]
        XCTAssertEqual(SoftmaxCrossEntropy()(logits: uniform, labels: [0, 2], classes: 3, gradient: nil),
                       log(3), accuracy: 1e-9)
        // Weighted mean (PyTorch): Σ w_y·nll / Σ w_y. Example: logits [2,0] label 0 (w 1), [0,2] label 0 (w 1)...
        let logits: [Float] = [2, 0, 0, 2]
        let nll0 = log(1 + exp(-2.0)), nll1 = log(1 + exp(2.0))
        XCTAssertEqual(SoftmaxCrossEntropy(classWeights: [1, 3])(logits: logits, labels: [0, 0], classes: 2, gradient: nil),
                       (nll0 + nll1) / 2, accuracy: 1e-9)
        XCTAssertEqual(SoftmaxCrossEntropy(classWeights: [1, 3])(logits: logits, labels: [0, 1], classes: 2, gradient: nil),
                       (nll0 + 3 * nll0) / 4, accuracy: 1e-9)
        // Focal with γ = 0 and no α is cross-entropy; γ = 2 down-weights the easy example.
        XCTAssertEqual(FocalLoss(gamma: 0)(logits: logits, labels: [0, 0], classes: 2, gradient: nil),
                       (nll0 + nll1) / 2, accuracy: 1e-9)
        let p = 1 / (1 + exp(-2.0))
        XCTAssertEqual(FocalLoss(gamma: 2, alpha: [0.25, 1])(logits: [2, 0], labels: [0], classes: 2, gradient: nil),
                       -0.25 * (1 - p) * (1 - p) * log(p), accuracy: 1e-9)
    }
}
