import Determinism
import XCTest
@testable import Neural

/// The overlapped all-reduce starts each bucket only once its gradients are final: a fake
/// reduction that copies its slice at launch (as a network would read it) and "sums two identical
/// ranks" at wait must leave exactly the gradients of a plain backward.
final class OverlappedGradientsTests: XCTestCase {
    final class SnapshotReduction: ReductionInFlight {
        let slice: UnsafeMutableBufferPointer<Float>
        let snapshot: [Float]
        init(_ slice: UnsafeMutableBufferPointer<Float>) { self.slice = slice; snapshot = Array(slice) }
        func test() throws -> Bool { false }
        func wait() throws { for i in slice.indices { slice[i] = 2 * snapshot[i] } }
    }

    func check(_ model: any Model, batch: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let (h, w) = (model.inputSize, model.inputWidth)
        let images = randomArray(batch * h * w * model.inputChannels, seed: 21)
        let labels = (0..<batch).map { $0 % model.numClasses }
        func backward() throws {
            model.setRandomStream(step: 1, firstSample: 0, sampleStride: 1)
            _ = try model.gradients(images: images, labels: labels, height: h, width: w,
                                    loss: SoftmaxCrossEntropy(), step: 1)
        }
        // Plain: gradients (and running statistics, which the exchange also averages) as computed.
        let state = model.stateTensors.map(\.value)
        try backward()
        let plain = model.parameters.map(\.grad), plainBuffers = model.buffers.map(\.value)

        for (tensor, value) in zip(model.stateTensors, state) { tensor.value = value }
        var launchedDuringBackward = 0
        var finishing = false
        let exchange = OverlappedGradients(parameters: model.parameters, buffers: model.buffers, bucketFloats: 64) {
            if !finishing { launchedDuringBackward += 1 }
            return SnapshotReduction($0)
        }
        XCTAssertGreaterThan(exchange.buckets.count, 3, file: file, line: line)
        model.gradientsReady = exchange.ready(from:)
        defer { model.gradientsReady = nil }
        exchange.begin()
        try backward()
        finishing = true
        try exchange.finish(scale: 0.5)
        // Every bucket (and the buffers) left while backward ran, none was left for finish.
        XCTAssertEqual(launchedDuringBackward, exchange.buckets.count + (model.buffers.isEmpty ? 0 : 1), file: file, line: line)
        for (p, g) in zip(model.parameters, plain) { XCTAssertEqual(p.grad, g, "\(p.name)", file: file, line: line) }
        for (b, v) in zip(model.buffers, plainBuffers) { XCTAssertEqual(b.value, v, "\(b.name)", file: file, line: line) }
    }

    func testDenseNetBucketsLeaveOnlyWhenFinal() throws {
        try check(try DenseNet(named: "densenet-tiny", seed: 3), batch: 3)
    }

    func testSequentialNetBucketsLeaveOnlyWhenFinal() throws {
        try check(try ModelConfig.load("phenotype-narrow").makeModel(seed: 4), batch: 3)
    }

    /// The checker must notice a bucket started too early.
    func testAnEarlyStartIsCaught() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 3)
        let exchange = OverlappedGradients(parameters: model.parameters, buffers: model.buffers, bucketFloats: 64) {
            SnapshotReduction($0)
        }
        let (h, w) = (model.inputSize, model.inputWidth)
        let images = randomArray(2 * h * w, seed: 21)
        // Claim everything final before backward has run.
        model.zeroGrad()
        exchange.begin()
        exchange.ready(from: model.parameters[0])
        _ = try model.gradients(images: images, labels: [0, 1], height: h, width: w, loss: SoftmaxCrossEntropy(), step: 1)
        try exchange.finish(scale: 0.5)
        XCTAssertTrue(model.parameters.allSatisfy { $0.grad.allSatisfy { $0 == 0 } })
    }
}
