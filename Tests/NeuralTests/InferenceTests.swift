import Determinism
import XCTest
import Storage
@testable import Neural

final class InferenceTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "neural-infer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func testZScore() {
        var v: [Float] = [1, 2, 3, 4]
        PatchNormalization.zscore.apply(&v, count: 4)
        let std = Float(1.25).squareRoot()
        XCTAssertEqual(v[0], -1.5 / std, accuracy: 1e-6); XCTAssertEqual(v[3], 1.5 / std, accuracy: 1e-6)
        var constant: [Float] = [7, 7, 7]
        PatchNormalization.zscore.apply(&constant, count: 3)
        XCTAssertEqual(constant, [0, 0, 0])
        var raw: [Float] = [1, 2]
        PatchNormalization.none.apply(&raw, count: 2)
        XCTAssertEqual(raw, [1, 2])
    }

    func testUInt16PatchesAreZScoredAndBatched() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 4)
        let (n, s) = (5, 32)
        var g = SplitMix64(seed: 8, skipping: 1)
        let raw: [UInt16] = (0..<n * s * s).map { _ in UInt16(1000 + Int(g.next() % 3000)) }
        let path = directory + "/patches.h5"
        let file = try HDF5File.create(path)
        try file.write("patches", raw, shape: [n, s, s])
        try file.flush()
        let classifier = PatchClassifier(model: model, normalization: .zscore, batchSize: 2)   // 3 batches, last partial
        let logits = try classifier.logits(file: try HDF5File.open(path), path: path, range: 0..<n)
        // Reference: z-score each patch by hand, one forward over all patches.
        var x = raw.map(Float.init)
        for i in 0..<n { x.withUnsafeMutableBufferPointer { PatchNormalization.zscore.apply($0.baseAddress! + i * s * s, count: s * s) } }
        let expected = model.predict(Tensor(shape: [n, s, s, 1], scalars: x))
        for i in 0..<n * 3 { XCTAssertEqual(logits[i], expected.scalars[i], accuracy: 1e-4) }
        let probs = PatchClassifier.probabilities(logits, classes: 3)
        for i in 0..<n { XCTAssertEqual(probs[i * 3] + probs[i * 3 + 1] + probs[i * 3 + 2], 1, accuracy: 1e-5) }
        let out = directory + "/out.h5"
        try PredictionsFile.write(path: out, logits: logits, classes: 3, checkpoint: "ck.h5",
                                  config: .init(model: model.modelConfig, normalization: .zscore, batchSize: 8, patches: "in.h5"))
        let written = try HDF5File.open(out)
        XCTAssertEqual(try written.stringAttribute("format"), "netosis.predictions")
        let config = try JSONDecoder().decode(PredictionsFile.RunConfig.self,
                                              from: Data(try written.stringAttribute("config").utf8))
        XCTAssertEqual(config.model, model.modelConfig)
        XCTAssertEqual(config.batchSize, 8)
        XCTAssertEqual(try written.dataset("probs").shape(), [n, 3])
        XCTAssertEqual(try written.read("logits", as: Float.self), logits)
    }

    func testWrongPatchSizeNamesFileAndShapes() throws {
        let model = try DenseNet(named: "densenet-tiny")
        let path = directory + "/small.h5"
        let file = try HDF5File.create(path)
        try file.write("patches", [Float](repeating: 0, count: 2 * 20 * 20), shape: [2, 20, 20])
        try file.flush()
        XCTAssertThrowsError(try PatchClassifier(model: model).layout(of: try HDF5File.open(path), path: path)) { error in
            let text = "\(error)"
            XCTAssert(text.contains(path) && text.contains("[2, 20, 20]") && text.contains("[N, 32, 32]"), text)
        }
    }

    /// Issue 8: z-scoring values near Float's limit gives finite numbers (Float arithmetic overflowed to Inf/NaN).
    func testZScoreOfHugeAndNearConstantValuesStaysFinite() {
        var huge: [Float] = [3e38, 3e38, 3e38, -3e38]   // −3e38 − mean (1.5e38) is beyond Float's range
        PatchNormalization.zscore.apply(&huge, count: 4)
        let third = Float(1.0 / 3).squareRoot()
        for (value, expected) in zip(huge, [third, third, third, -3 * third]) { XCTAssertEqual(value, expected, accuracy: 1e-6) }
        var flatHuge: [Float] = [3e38, 3e38, 3e38]
        PatchNormalization.zscore.apply(&flatHuge, count: 3)
        XCTAssertEqual(flatHuge, [0, 0, 0])
        var nearConstant: [Float] = [1e7, 1e7, 1e7 + 1, 1e7]
        PatchNormalization.zscore.apply(&nearConstant, count: 4)
        XCTAssertTrue(nearConstant.allSatisfy(\.isFinite), "\(nearConstant)")
        XCTAssertTrue(nearConstant[2] > 1 && nearConstant[0] <= 0, "\(nearConstant)")
    }

    /// Issue 8: patches holding NaN/Inf are not classified (valid 0, NaN rows); every other row is
    /// bit-identical to a run where those patches held ordinary values.
    func testNonFinitePatchesAreExcludedAndOthersUnchanged() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 4)
        let (n, s) = (6, 32)
        var g = SplitMix64(seed: 9, skipping: 1)
        let clean: [Float] = (0..<n * s * s).map { _ in 100 + 50 * g.nextNormal() }
        var dirty = clean
        dirty[1 * s * s + 17] = .nan
        dirty[3 * s * s] = .infinity
        for i in 4 * s * s ..< 5 * s * s { dirty[i] = -.infinity }
        func scores(_ values: [Float], _ name: String) throws -> PatchClassifier.Scores {
            let path = directory + "/" + name
            let file = try HDF5File.create(path)
            try file.write("patches", values, shape: [n, s, s])
            try file.flush()
            return try PatchClassifier(model: model, batchSize: 4).classify(file: try HDF5File.open(path), path: path, range: 0..<n)
        }
        let reference = try scores(clean, "clean.h5"), result = try scores(dirty, "dirty.h5")
        XCTAssertEqual(reference.valid, [1, 1, 1, 1, 1, 1])
        XCTAssertEqual(result.valid, [1, 0, 1, 0, 0, 1])
        for row in 0..<n {
            let got = Array(result.logits[row * 3 ..< row * 3 + 3]), want = Array(reference.logits[row * 3 ..< row * 3 + 3])
            if result.valid[row] == 1 { XCTAssertEqual(got, want, "row \(row)") }
            else { XCTAssertTrue(got.allSatisfy(\.isNaN), "row \(row): \(got)") }
        }
        let probs = PatchClassifier.probabilities(result.logits, classes: 3)
        XCTAssertTrue(probs[3..<6].allSatisfy(\.isNaN))
        XCTAssertEqual(probs[0] + probs[1] + probs[2], 1, accuracy: 1e-5)

        let out = directory + "/predictions.h5"
        try PredictionsFile.write(path: out, logits: result.logits, valid: result.valid, classes: 3, checkpoint: "ck.h5",
                                  config: .init(model: model.modelConfig, normalization: .zscore, batchSize: 4, patches: "dirty.h5"))
        let read = try PredictionsFile.read(out)
        XCTAssertEqual(read.valid, result.valid)
        XCTAssertEqual(read.header.formatVersion, 2)
        XCTAssertEqual(try HDF5File.open(out).dataset("valid").shape(), [n])
    }

    /// The memory estimate covers what a forward and a training step actually reserve.
    func testMemoryEstimateCoversTheActivationBuffers() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 1)
        let (batch, s) = (5, 32)
        let weights = 4 * Double(model.allTensors.reduce(0) { $0 + $1.count })
        let x = [Float](repeating: 0.5, count: batch * s * s)
        model.forward(x, batch: batch, height: s, width: s, training: false)
        let inference = model.memoryBytes(batch: batch, height: s, width: s, training: false) - weights
        func caches() -> Double {
            4 * Double(model.blocks.flatMap(\.layers).reduce(0) { $0 + $1.conv2.cachedFloatsAllocated })
        }
        XCTAssertGreaterThan(caches(), 0, "densenet-tiny's growth convolutions run through Winograd")
        let reserved = 4 * Double(model.activations.allocatedFloats) + caches()
        XCTAssertGreaterThanOrEqual(inference, reserved)
        XCTAssertLessThan(inference, 1.5 * reserved)
        try model.trainStep(images: x, labels: [0, 1, 2, 0, 1], height: s, width: s, loss: SoftmaxCrossEntropy(), optimizer: SGD.paper())
        let training = model.memoryBytes(batch: batch, height: s, width: s, training: true) - weights - 8 * Double(model.parameterCount)
        let reservedTraining = 4 * Double(model.activations.allocatedFloats) + caches()
        XCTAssertGreaterThanOrEqual(training, reservedTraining)
        XCTAssertLessThan(training, 1.5 * reservedTraining)
        XCTAssertTrue(model.memoryBytes(batch: 1 << 62, height: 112, width: 112, training: true) > 1e20)
    }
}
