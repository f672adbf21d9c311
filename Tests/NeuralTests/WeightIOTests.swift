import Determinism
import XCTest
import Storage
@testable import Neural

final class WeightIOTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "neural-io-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func testRoundTripRestoresLogitsAndOptimizerState() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 9)
        let sgd = SGD(schedule: LearningRateSchedule(base: 0.01), momentum: 0.9)
        let x = randomArray(2 * 16 * 16, seed: 50)
        try model.trainStep(images: x, labels: [1, 2], height: 16, width: 16, loss: SoftmaxCrossEntropy(), optimizer: sgd)
        let path = directory + "/ckpt.h5"
        try WeightIO.save(model, to: path, optimizer: sgd)
        let file = try HDF5File.open(path)
        XCTAssertEqual(try file.stringAttribute("format"), "netosis.checkpoint")
        XCTAssertEqual(try file.dataset("model/features/denseblock1/denselayer1/conv2/weight").shape(), [4, 8, 3, 3])
        XCTAssertTrue(file.exists("model/features/norm0/running_var"))
        let restored = try WeightIO.loadModel(path: path)
        XCTAssertEqual(restored.modelConfig, model.modelConfig)
        let a = model.predict(Tensor(shape: [2, 16, 16, 1], scalars: x))
        let b = restored.predict(Tensor(shape: [2, 16, 16, 1], scalars: x))
        XCTAssertEqual(a, b)
        let sgd2 = SGD(schedule: LearningRateSchedule(base: 0.01), momentum: 0.9)
        try WeightIO.loadOptimizer(sgd2, model: restored, path: path)
        XCTAssertEqual(sgd2.step, 1)
        XCTAssertEqual(sgd2.velocity["features/conv0/weight"], sgd.velocity["features/conv0/weight"])
    }

    func testTorchLayoutIsPermutedOnDisk() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 9)
        let w = model.stem.conv0.weight   // internal [out, kh, kw, in], torch [out, in, kh, kw]; in = 1 → same
        let k = model.blocks[0].layers[0].conv2.weight   // [4, 8, 3, 3]
        let path = directory + "/w.h5"
        try WeightIO.save(model, to: path)
        let stored: [Float] = try HDF5File.open(path).read("model/" + k.name)
        // torch index (o=1, i=2, y=0, x=2) ↔ internal (o=1, y=0, x=2, i=2)
        let torchIndex: Int = ((1 * 8 + 2) * 3 + 0) * 3 + 2
        let internalIndex: Int = ((1 * 3 + 0) * 3 + 2) * 8 + 2
        XCTAssertEqual(stored[torchIndex], k.value[internalIndex])
        XCTAssertEqual(k.internalLayout(fromTorch: k.torchLayout()), k.value)
        XCTAssertEqual(w.torchLayout(), w.value)
    }

    func testMismatchedShapeNamesTensorAndShapes() throws {
        let small = try DenseNet(named: "densenet-tiny")
        let path = directory + "/tiny.h5"
        try WeightIO.save(small, to: path)
        var other = small.config
        other.growthRate = 6
        let model = try DenseNet(config: other)
        XCTAssertThrowsError(try WeightIO.loadWeights(into: model, path: path)) { error in
            XCTAssertEqual(error as? NeuralError, .shapeMismatch(tensor: "features/denseblock1/denselayer1/conv1/weight",
                                                                  file: path, expected: [12, 8, 1, 1], found: [8, 8, 1, 1]))
            let text = "\(error)"
            XCTAssert(text.contains("[12, 8, 1, 1]") && text.contains("[8, 8, 1, 1]") && text.contains(path), text)
        }
    }

    func testTruncatedAndMissingFilesAreErrorsNamingTheFile() throws {
        let model = try DenseNet(named: "densenet-tiny")
        let path = directory + "/full.h5"
        try WeightIO.save(model, to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = directory + "/truncated.h5"
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: truncated))
        XCTAssertThrowsError(try WeightIO.loadWeights(into: model, path: truncated)) { error in
            XCTAssert("\(error)".contains(truncated), "\(error)")
        }
        XCTAssertThrowsError(try WeightIO.loadModel(path: directory + "/absent.h5")) { error in
            XCTAssert("\(error)".contains("absent.h5"), "\(error)")
        }
        // Corrupt bytes inside a tensor: the checksum refuses it.
        var corrupt = data
        let marker = corrupt.count - 2048
        for i in marker..<marker + 256 { corrupt[i] ^= 0x5A }
        let damaged = directory + "/damaged.h5"
        try corrupt.write(to: URL(fileURLWithPath: damaged))
        XCTAssertThrowsError(try WeightIO.loadWeights(into: model, path: damaged))
    }

    func testStemChannelsSumOnLoad() throws {
        var rgbConfig = DenseNetConfig.presets["densenet-tiny"]!
        rgbConfig.inputChannels = 3
        let rgb = try DenseNet(config: rgbConfig, seed: 2)
        let path = directory + "/rgb.h5"
        try WeightIO.save(rgb, to: path)
        let grey = try DenseNet(named: "densenet-tiny")
        XCTAssertThrowsError(try WeightIO.loadWeights(into: grey, path: path))
        try WeightIO.loadWeights(into: grey, path: path, sumStemChannels: true)
        // A grey image through the summed stem equals the same image replicated to RGB.
        let x = randomArray(16 * 16, seed: 60)
        var x3 = [Float](); for v in x { x3 += [v, v, v] }
        let a = grey.predict(Tensor(shape: [1, 16, 16, 1], scalars: x))
        let b = rgb.predict(Tensor(shape: [1, 16, 16, 3], scalars: x3))
        for i in 0..<3 { XCTAssertEqual(a.scalars[i], b.scalars[i], accuracy: 1e-4) }
    }
}

final class GradientBufferTests: XCTestCase {
    func testPackUnpackRoundTripWithScale() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 1)
        var g = SplitMix64(seed: 2, skipping: 1)
        for p in model.parameters { for i in 0..<p.count { p.grad[i] = g.nextNormal() } }
        let before = model.parameters.map(\.grad)
        let buffer = GradientBuffer(parameters: model.allTensors)   // running statistics are skipped
        XCTAssertEqual(buffer.count, model.parameterCount)
        buffer.pack()
        XCTAssertEqual(buffer.buffer[0], before[0][0])
        XCTAssertEqual(buffer.buffer[buffer.count - 1], before.last!.last!)
        for p in model.parameters { p.zeroGrad() }
        buffer.unpack(scale: 0.5)
        for (p, old) in zip(model.parameters, before) { XCTAssertEqual(p.grad, old.map { $0 * 0.5 }, p.name) }
    }
}

/// Issue 8: NaN/Inf weights are refused when a checkpoint is read or written.
final class NonFiniteWeightTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "neural-nan-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A checkpoint written by another tool (or a diverged run) without the save check.
    func writeUnchecked(_ model: DenseNet, to path: String) throws {
        let file = try HDF5File.create(path)
        try FileHeader(WeightIO.format, config: WeightIO.configJSON(model.config)).write(to: file)
        try WeightIO.writeModel(model, into: file)
        try file.flush()
    }

    func testLoadRefusesNaNWeightNamingFileTensorAndCount() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 3)
        let conv = model.blocks[0].layers[0].conv1.weight
        conv.value[0] = .nan; conv.value[5] = .infinity; conv.value[7] = -.infinity
        let path = directory + "/ck.h5"
        try writeUnchecked(model, to: path)
        let target = try DenseNet(named: "densenet-tiny", seed: 4)
        let before = target.allTensors.map(\.value)
        XCTAssertThrowsError(try WeightIO.loadWeights(into: target, path: path)) { error in
            XCTAssertEqual("\(error)", "\(path): tensor features/denseblock1/denselayer1/conv1/weight holds 3 non-finite values (NaN/Inf); "
                           + "the checkpoint is damaged or training diverged — use an earlier checkpoint")
        }
        XCTAssertEqual(target.allTensors.map(\.value), before, "a refused checkpoint must leave the model untouched")
        XCTAssertThrowsError(try WeightIO.loadModel(path: path))
    }

    func testLoadRefusesNaNRunningStatistic() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 3)
        model.stem.norm0.state[1].value[2] = .nan   // running_var
        let path = directory + "/bn.h5"
        try writeUnchecked(model, to: path)
        XCTAssertThrowsError(try WeightIO.loadModel(path: path)) { error in
            XCTAssertEqual(error as? NeuralError, .nonFiniteWeights(file: path, tensor: "features/norm0/running_var", count: 1, saving: false))
            XCTAssertTrue("\(error)".contains("holds 1 non-finite value (NaN/Inf)"), "\(error)")
        }
    }

    func testSaveRefusesNaNWeightAndKeepsThePreviousFile() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 3)
        let path = directory + "/ck.h5"
        try WeightIO.save(model, to: path)
        let previous = try Data(contentsOf: URL(fileURLWithPath: path))
        model.head.classifier.parameters[0].value[1] = .nan
        XCTAssertThrowsError(try WeightIO.save(model, to: path)) { error in
            XCTAssertEqual("\(error)", "\(path): not written: tensor classifier/weight holds 1 non-finite value (NaN/Inf); "
                           + "training diverged — lower the learning rate or resume from an earlier checkpoint")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), previous)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["ck.h5"])
    }
}
