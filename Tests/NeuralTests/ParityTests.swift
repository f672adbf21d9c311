import XCTest
import Storage
@testable import Neural

/// Parity with PyTorch/torchvision from the committed fixture (tools/make_parity_fixture.py):
/// the same DenseNet code path, the same weights, the same batch.
final class ParityTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parity.h5").path

    func relativeError(_ a: [Float], _ b: [Float]) -> Double { relativeL2Error(a, b) }

    func load() throws -> (DenseNet, HDF5File, Tensor, [Int]) {
        let model = try WeightIO.loadModel(path: Self.fixture) as! DenseNet
        let file = try HDF5File.open(Self.fixture)
        let shape = try file.dataset("input").shape()
        let x = Tensor.fromNCHW(try file.read("input"), n: shape[0], c: shape[1], h: shape[2], w: shape[3])
        let labels: [Int64] = try file.read("labels")
        return (model, file, x, labels.map(Int.init))
    }

    func testForwardAndGradientsMatchTorchvision() throws {
        let (model, file, x, labels) = try load()
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let logitsPointer = model.forward(x.scalars, batch: n, height: h, width: w, training: true)
        let logits = Array(UnsafeBufferPointer(start: logitsPointer, count: n * 3))
        XCTAssertLessThanOrEqual(relativeError(logits, try file.read("train/logits")), 1e-4, "training-mode logits")
        var dLogits = [Float](repeating: 0, count: n * 3)
        let loss = SoftmaxCrossEntropy()(logits: logits, labels: labels, classes: 3, gradient: &dLogits)
        let torchLoss: [Double] = try file.read("train/loss")
        XCTAssertEqual(loss, torchLoss[0], accuracy: 1e-5 * abs(torchLoss[0]))
        model.zeroGrad()
        let dx = model.backward(logitsGradient: dLogits, inputGradient: true)!
        let inputGradient = Tensor(shape: [n, h, w, c], scalars: Array(UnsafeBufferPointer(start: dx, count: x.count)))
        XCTAssertLessThanOrEqual(relativeError(inputGradient.toNCHW(), try file.read("train/input_grad")), 1e-3,
                                 "input gradient")
        var checked = 0
        for p in model.parameters {
            let expected: [Float] = try file.read("train/grad/" + p.name)
            let error = relativeError(p.torchLayout(p.grad), expected)
            XCTAssertLessThanOrEqual(error, 1e-3, "gradient of \(p.name)")
            checked += 1
        }
        XCTAssertEqual(checked, 1 + 2 + 4 * 6 + 3 + 2 + 2)   // conv0, norm0, 4 dense layers, transition, norm5, fc
    }

    func testThreeSGDMomentumStepsMatchTorch() throws {
        let (model, file, x, labels) = try load()
        let sgd = try file.group("sgd")
        let optimizer = SGD(schedule: LearningRateSchedule(base: try sgd.attribute("lr", as: Double.self)),
                            momentum: Float(try sgd.attribute("momentum", as: Double.self)),
                            weightDecay: Float(try sgd.attribute("weight_decay", as: Double.self)))
        // PyTorch's weight_decay applies to every parameter (BN and biases included).
        for p in model.parameters { p.decays = true }
        let steps = Int(try sgd.attribute("steps", as: Int64.self))
        for _ in 0..<steps {
            try model.trainStep(images: x.scalars, labels: labels, height: x.shape[1], width: x.shape[2],
                                loss: SoftmaxCrossEntropy(), optimizer: optimizer)
        }
        for tensor in model.allTensors {
            let expected: [Float] = try sgd.read(tensor.name)
            XCTAssertLessThanOrEqual(relativeError(tensor.torchLayout(), expected), 1e-4,
                                     "\(tensor.name) after \(steps) steps")
        }
        let eval = model.predict(x)
        XCTAssertLessThanOrEqual(relativeError(eval.scalars, try file.read("sgd_eval_logits")), 1e-4,
                                 "inference-mode logits (running statistics) after training")
    }
}
