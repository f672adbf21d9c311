import Determinism
import Storage
import XCTest
@testable import Neural

/// `architecture: sequential`: PyTorch parity (tools/make_sequential_fixture.py), finite differences
/// through every layer kind, dropout semantics, configuration parsing and the paper's presets.
final class SequentialNetTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sequential-parity.h5").path
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func relativeError(_ a: [Float], _ b: [Float]) -> Double { relativeL2Error(a, b) }

    func load() throws -> (SequentialNet, HDF5File, Tensor, [Int]) {
        let model = try XCTUnwrap(try WeightIO.loadModel(path: Self.fixture) as? SequentialNet)
        for case let dropout as DropoutLayer in model.layers { dropout.enabled = false }   // PyTorch's masks differ
        let file = try HDF5File.open(Self.fixture)
        let shape = try file.dataset("input").shape()
        let x = Tensor.fromNCHW(try file.read("input"), n: shape[0], c: shape[1], h: shape[2], w: shape[3])
        let labels: [Int64] = try file.read("labels")
        return (model, file, x, labels.map(Int.init))
    }

    func testForwardAndGradientsMatchPyTorch() throws {
        let (model, file, x, labels) = try load()
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        XCTAssertEqual(model.stateTensors.map(\.name).first, "0/weight")
        XCTAssertEqual(model.stateTensors.map(\.name).last, "12/bias")
        let logits = Array(UnsafeBufferPointer(start: model.forward(x.scalars, batch: n, height: h, width: w, training: true), count: n * 3))
        XCTAssertLessThanOrEqual(relativeError(logits, try file.read("train/logits")), 1e-4, "training-mode logits")
        var dLogits = [Float](repeating: 0, count: n * 3)
        let loss = SoftmaxCrossEntropy()(logits: logits, labels: labels, classes: 3, gradient: &dLogits)
        let torchLoss: [Double] = try file.read("train/loss")
        XCTAssertEqual(loss, torchLoss[0], accuracy: 1e-5 * abs(torchLoss[0]))
        model.zeroGrad()
        let dx = try XCTUnwrap(model.backward(logitsGradient: dLogits, inputGradient: true))
        let inputGradient = Tensor(shape: [n, h, w, c], scalars: Array(UnsafeBufferPointer(start: dx, count: x.count)))
        XCTAssertLessThanOrEqual(relativeError(inputGradient.toNCHW(), try file.read("train/input_grad")), 1e-3, "input gradient")
        for p in model.parameters {
            let expected: [Float] = try file.read("train/grad/" + p.name)
            // A bias feeding a BatchNorm has a zero gradient in exact arithmetic (float noise ~1e-6 here, other
            // gradients ~0.1–1): compare absolutely there.
            let norm = expected.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            let difference = relativeError(p.torchLayout(p.grad), expected) * norm   // ‖ours − torch‖
            XCTAssertLessThanOrEqual(difference / max(norm, 1e-2), 1e-3, "gradient of \(p.name) (‖torch‖ = \(norm))")
        }
        XCTAssertEqual(model.parameters.count, 2 + 2 + 2 + 2 + 2 + 2)   // conv, bn, conv, dense, bn1d, dense
    }

    func testThreeSGDMomentumStepsMatchPyTorch() throws {
        let (model, file, x, labels) = try load()
        let sgd = try file.group("sgd")
        let optimizer = SGD(schedule: LearningRateSchedule(base: try sgd.attribute("lr", as: Double.self)),
                            momentum: Float(try sgd.attribute("momentum", as: Double.self)),
                            weightDecay: Float(try sgd.attribute("weight_decay", as: Double.self)))
        for p in model.parameters { p.decays = true }   // PyTorch's weight_decay applies to every parameter
        for _ in 0..<Int(try sgd.attribute("steps", as: Int64.self)) {
            try model.trainStep(images: x.scalars, labels: labels, height: x.shape[1], width: x.shape[2],
                                loss: SoftmaxCrossEntropy(), optimizer: optimizer)
        }
        for tensor in model.stateTensors {
            let expected: [Float] = try sgd.read(tensor.name)
            XCTAssertLessThanOrEqual(relativeError(tensor.torchLayout(), expected), 1e-4, "\(tensor.name) after 3 steps")
        }
        XCTAssertLessThanOrEqual(relativeError(model.predict(x).scalars, try file.read("sgd_eval_logits")), 1e-4,
                                 "inference-mode logits (running statistics)")
    }

    /// Finite differences through every layer kind, dropout on (the same mask for every evaluation).
    func testFiniteDifferenceGradients() throws {
        let config = try SequentialConfig.parse(yaml: """
            architecture: sequential
            name: fd
            input_channels: 2
            input_size: 10
            layers:
              - conv: {filters: 3, kernel: 3, padding: same}
              - batchnorm
              - relu
              - maxpool: 2
              - dropout: 0.3
              - conv: {filters: 4, kernel: 2, stride: 2, bias: false}
              - avgpool: {kernel: 2, stride: 1}
              - flatten
              - dense: 5
              - batchnorm
              - relu
              - dense: 3
            """)
        let model = try SequentialNet(config: config, seed: 3)
        let (n, s) = (3, 10)
        var x = randomArray(n * s * s * 2, seed: 40)
        let r = randomArray(n * 3, seed: 41)
        func loss() -> Double {
            model.setRandomStream(step: 5, firstSample: 0, sampleStride: 1)
            return GradientCheck.dot(model.forward(x, batch: n, height: s, width: s, training: true), r, count: n * 3)
        }
        _ = loss()
        model.zeroGrad()
        let dx = try XCTUnwrap(model.backward(logitsGradient: r, inputGradient: true))
        let analyticX = Array(UnsafeBufferPointer(start: dx, count: x.count))
        let idx = GradientCheck.sample(x.count, limit: 60)
        let numericX = GradientCheck.numeric(indices: idx, step: 1e-3, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
        XCTAssertLessThan(GradientCheck.relativeError(idx.map { Double(analyticX[$0]) }, numericX), 2e-2, "input gradient")
        for p in model.parameters {
            let sample = GradientCheck.sample(p.count, limit: 12, seed: UInt64(p.count))
            let numeric = GradientCheck.numeric(p, indices: sample, step: 1e-3, loss: loss)
            let analytic = sample.map { Double(p.grad[$0]) }
            let diff = zip(analytic, numeric).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            let norm = max(analytic.map { $0 * $0 }.reduce(0, +).squareRoot(), 3e-2)
            XCTAssertLessThan(diff / norm, 2e-2, "gradient of \(p.name)")
        }
    }

    /// Finite differences through global sum and average pooling on non-square input (the PL
    /// counter's stage 2 reads a whole field's maps), and the MAE loss's gradient.
    func testGlobalPoolingOnNonSquareInputAndMeanAbsoluteError() throws {
        for pool in ["globalsumpool", "globalavgpool"] {
            let config = try SequentialConfig.parse(yaml: """
                architecture: sequential
                name: fd-\(pool)
                input_channels: 3
                input_size: 7
                input_width: 11
                layers:
                  - conv: {filters: 4, kernel: 3}
                  - relu
                  - \(pool)
                  - dense: 2
                """)
            XCTAssertEqual(config.inputWidth, 11)
            let model = try SequentialNet(config: config, seed: 4)
            XCTAssertEqual(model.shapes[3], FeatureShape(height: 1, width: 1, channels: 4, isFlat: true))
            let (n, h, w) = (2, 7, 11)
            var x = randomArray(n * h * w * 3, seed: 50)
            let targets = randomArray(n * 2, seed: 51).map { 3 * $0 }
            let mae = MeanAbsoluteError()
            func loss() -> Double {
                mae(outputs: model.forward(x, batch: n, height: h, width: w, training: true), targets: targets, gradient: nil)
            }
            model.zeroGrad()
            let outputs = Array(UnsafeBufferPointer(start: model.forward(x, batch: n, height: h, width: w, training: true), count: n * 2))
            var gradient = [Float](repeating: 0, count: n * 2)
            let value = gradient.withUnsafeMutableBufferPointer { mae(outputs: outputs, targets: targets, gradient: $0.baseAddress!) }
            XCTAssertEqual(value, zip(outputs, targets).map { Double(abs($0 - $1)) }.reduce(0, +) / 4, accuracy: 1e-6)
            XCTAssertEqual(gradient, zip(outputs, targets).map { $0 > $1 ? 0.25 : -0.25 })
            let dx = try XCTUnwrap(gradient.withUnsafeBufferPointer { model.backward(logitsGradient: $0.baseAddress!, inputGradient: true) })
            let analyticX = Array(UnsafeBufferPointer(start: dx, count: x.count))
            let idx = GradientCheck.sample(x.count, limit: 60)
            let numericX = GradientCheck.numeric(indices: idx, step: 1e-3, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
            XCTAssertLessThan(GradientCheck.relativeError(idx.map { Double(analyticX[$0]) }, numericX), 2e-2, "\(pool): input gradient")
            for p in model.parameters {
                let sample = GradientCheck.sample(p.count, limit: 12, seed: UInt64(p.count))
                let numeric = GradientCheck.numeric(p, indices: sample, step: 1e-3, loss: loss)
                XCTAssertLessThan(GradientCheck.relativeError(sample.map { Double(p.grad[$0]) }, numeric), 2e-2, "\(pool): gradient of \(p.name)")
            }
        }
    }

    /// The published stage 2 really is the ~150 M-weight network the issue describes; the pooled one is small.
    func testStageTwoPresets() throws {
        for name in ["pl-stage2", "pl-stage2-pooled", "pl-stage1-narrow"] {
            let text = try String(contentsOf: Self.root.appendingPathComponent("config/models/\(name).yaml"), encoding: .utf8)
            XCTAssertEqual(try SequentialConfig.parse(yaml: text), SequentialConfig.presets[name], name)
        }
        let published = SequentialConfig.presets["pl-stage2"]!
        let shapes = SequentialNet.shapes(published, height: 481, width: 641)
        XCTAssertEqual(shapes[6], FeatureShape(height: 118, width: 158, channels: 32))
        XCTAssertEqual(shapes[6].count * 256, 152_731_648)
        let pooled = try SequentialNet(config: SequentialConfig.presets["pl-stage2-pooled"]!)
        XCTAssertEqual(pooled.parameterCount, (3 * 9 * 32 + 32) + (32 * 9 * 32 + 32) + (32 * 256 + 256) + (256 * 2 + 2))
    }

    /// Dropout keeps ≈ 1 − rate of the values, scales them by 1/(1 − rate), is the identity at
    /// inference, and its masks depend on the sample's index in the global batch, not on how the
    /// batch is cut over ranks.
    func testDropoutMasksFollowTheGlobalSampleIndex() throws {
        let config = SequentialConfig(name: "d", inputSize: 8, layers: [.flatten, .dropout(rate: 0.25), .dense(units: 2)])
        let model = try SequentialNet(config: config, seed: 9)
        let dropout = try XCTUnwrap(model.layers[1] as? DropoutLayer)
        let x = [Float](repeating: 1, count: 4 * 64)
        model.setRandomStream(step: 7, firstSample: 0, sampleStride: 1)
        model.forward(x, batch: 4, height: 8, width: 8, training: true)
        let whole = Array(UnsafeBufferPointer(start: UnsafePointer(try outputPointer(model, layer: 1)), count: 4 * 64))
        let kept = whole.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 256, 0.75, accuracy: 0.08)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        // Two ranks: rank r holds global positions r, r + 2 (the loader deals samples out in turn).
        var dealt = [Float](repeating: -1, count: 4 * 64)
        for rank in [0, 1] {
            model.setRandomStream(step: 7, firstSample: rank, sampleStride: 2)
            model.forward(Array(x[0..<128]), batch: 2, height: 8, width: 8, training: true)
            let out = try outputPointer(model, layer: 1)
            for j in 0..<2 { for i in 0..<64 { dealt[(rank + 2 * j) * 64 + i] = out[j * 64 + i] } }
        }
        XCTAssertEqual(dealt, whole, "two ranks draw the masks one rank draws for the same global positions")
        model.setRandomStream(step: 8, firstSample: 0, sampleStride: 1)
        model.forward(x, batch: 4, height: 8, width: 8, training: true)
        XCTAssertNotEqual(Array(UnsafeBufferPointer(start: UnsafePointer(try outputPointer(model, layer: 1)), count: 256)), whole,
                          "another step, other masks")
        model.forward(x, batch: 4, height: 8, width: 8, training: false)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: UnsafePointer(try outputPointer(model, layer: 1)), count: 256)), x)
        XCTAssertEqual(dropout.rate, 0.25)
    }

    private func outputPointer(_ model: SequentialNet, layer: Int) throws -> UnsafeMutablePointer<Float> {
        model.layerOutput(layer)
    }

    func testPresetsMatchConfigFilesAndThePapersSizes() throws {
        for name in ["pl-stage1", "phenotype"] {
            let text = try String(contentsOf: Self.root.appendingPathComponent("config/models/\(name).yaml"), encoding: .utf8)
            XCTAssertEqual(try SequentialConfig.parse(yaml: text), SequentialConfig.presets[name], name)
            XCTAssertEqual(try ModelConfig.load(name), .sequential(SequentialConfig.presets[name]!))
        }
        // Keras' parameter counts of the published layers: stage 1 has 10×10×64 features into dense 256,
        // the phenotype CNN 7×7×64 (100 → 47 → 20 → 7 px with valid 3×3 convolutions).
        let stage1 = try SequentialNet(config: SequentialConfig.presets["pl-stage1"]!)
        let stage1Count: Int = 640 + 3 * 36_928 + (6_400 * 256 + 256) + (256 * 3 + 3)
        XCTAssertEqual(stage1.parameterCount, stage1Count)
        XCTAssertEqual(stage1.shapes[10], FeatureShape(height: 10, width: 10, channels: 64))
        let phenotype = try SequentialNet(config: SequentialConfig.presets["phenotype"]!)
        let phenotypeCount: Int = 640 + 8 * 36_928 + (3_136 * 256 + 256) + (256 * 2 + 2)
        XCTAssertEqual(phenotype.parameterCount, phenotypeCount)
        XCTAssertEqual(phenotype.numClasses, 2)
        // FLOPs: the convolutions and dense layers, multiply-adds × 2.
        let pixels: [Double] = [30 * 30, 28 * 28, 12 * 12, 10 * 10], patch: [Double] = [9, 576, 576, 576]
        let convFLOPs: Double = zip(pixels, patch).map { 2 * 64 * $0 * $1 }.reduce(0, +)
        let denseFLOPs: Double = 2 * (6_400 * 256 + 256 * 3)
        XCTAssertEqual(stage1.forwardFLOPs(height: 32, width: 32), convFLOPs + denseFLOPs, accuracy: 1)
    }

    func testConfigErrorsNameTheLayer() {
        func problem(_ layers: String) -> String {
            do {
                _ = try SequentialConfig.parse(yaml: "architecture: sequential\nname: x\ninput_size: 16\nlayers:\n" + layers, source: "x.yaml")
                return "parsed"
            } catch { return "\(error)" }
        }
        XCTAssert(problem("  - conv: {filters: 4, kernel: 3}\n  - dense: 3\n").contains("put flatten before it"))
        XCTAssert(problem("  - conv: {filters: 4, kernel: 3}\n").contains("must end in class scores"))
        XCTAssert(problem("  - flatten\n  - softmax\n  - dense: 3\n").contains("softmax may only be the last layer"))
        XCTAssert(problem("  - pool: 2\n  - flatten\n  - dense: 3\n").contains("unknown layer 'pool'"))
        XCTAssert(problem("  - conv: {filters: 4, kernel: 3, size: 2}\n  - flatten\n  - dense: 3\n").contains("unknown setting"))
        XCTAssert(problem("  - conv: {filters: 4, kernel: 33}\n  - flatten\n  - dense: 3\n").contains("layer 0 (conv)"))
        XCTAssert(problem("  - maxpool: 32\n  - flatten\n  - dense: 3\n").contains("does not fit"))
        XCTAssert(problem("  - dropout: 1.5\n  - flatten\n  - dense: 3\n").contains("rate must be in [0, 1)"))
        XCTAssertEqual(problem("  - conv: {filters: 4, kernel: 3, padding: same}\n  - flatten\n  - dense: 3\n"), "parsed")
    }

    /// A checkpoint names the architecture and rebuilds the same network with the same weights.
    func testCheckpointRoundTrip() throws {
        let model = try SequentialNet(config: SequentialConfig.presets["pl-stage1"]!, seed: 5)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.h5").path
        try WeightIO.save(model, to: path)
        XCTAssertEqual(try WeightIO.config(atPath: path).architecture, "sequential")
        let loaded = try XCTUnwrap(try WeightIO.loadModel(path: path) as? SequentialNet)
        XCTAssertEqual(loaded.config, model.config)
        let x = randomArray(2 * 32 * 32, seed: 3)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: loaded.forward(x, batch: 2, height: 32, width: 32, training: false), count: 6)),
                       Array(UnsafeBufferPointer(start: model.forward(x, batch: 2, height: 32, width: 32, training: false), count: 6)))
    }
}
