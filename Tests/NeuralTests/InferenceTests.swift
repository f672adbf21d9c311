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
                                  config: .init(model: model.config, normalization: .zscore, batchSize: 8, patches: "in.h5"))
        let written = try HDF5File.open(out)
        XCTAssertEqual(try written.stringAttribute("format"), "netosis.predictions")
        let config = try JSONDecoder().decode(PredictionsFile.RunConfig.self,
                                              from: Data(try written.stringAttribute("config").utf8))
        XCTAssertEqual(config.model, model.config)
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
}
