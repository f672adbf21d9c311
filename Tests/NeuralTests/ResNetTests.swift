import Determinism
import Storage
import XCTest
@testable import Neural

/// The ResNet against torchvision (tools/make_resnet_fixture.py: torchvision's own BasicBlock and
/// Bottleneck in a narrow network of torchvision's structure, non-square input), and against
/// finite differences.
final class ResNetTests: XCTestCase {
    static func fixture(_ kind: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/resnet-\(kind)-parity.h5").path
    }

    func load(_ kind: String) throws -> (ResNet, HDF5File, Tensor, [Int]) {
        let model = try XCTUnwrap(try WeightIO.loadModel(path: Self.fixture(kind)) as? ResNet)
        let file = try HDF5File.open(Self.fixture(kind))
        let shape = try file.dataset("input").shape()
        let x = Tensor.fromNCHW(try file.read("input"), n: shape[0], c: shape[1], h: shape[2], w: shape[3])
        let labels: [Int64] = try file.read("labels")
        return (model, file, x, labels.map(Int.init))
    }

    func checkParity(_ kind: String, blocks: Int, tensors: Int, file line: UInt = #line) throws {
        let (model, file, x, labels) = try load(kind)
        XCTAssertEqual(model.config.block.rawValue, kind.replacingOccurrences(of: "-fastai", with: ""))
        XCTAssertEqual(model.fastaiHead != nil, kind.hasSuffix("-fastai"))
        XCTAssertEqual(model.blocks.count, blocks)
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        XCTAssertNotEqual(h, w, "the fixture's input is not square")
        let eval = model.predict(x)
        XCTAssertLessThanOrEqual(relativeL2Error(eval.scalars, try file.read("eval/logits")), 1e-4, "\(kind): inference logits", line: line)
        let pointer = model.forward(x.scalars, batch: n, height: h, width: w, training: true)
        let logits = Array(UnsafeBufferPointer(start: pointer, count: n * 3))
        XCTAssertLessThanOrEqual(relativeL2Error(logits, try file.read("train/logits")), 1e-4, "\(kind): training logits", line: line)
        var dLogits = [Float](repeating: 0, count: n * 3)
        let loss = SoftmaxCrossEntropy()(logits: logits, labels: labels, classes: 3, gradient: &dLogits)
        let torchLoss: [Double] = try file.read("train/loss")
        XCTAssertEqual(loss, torchLoss[0], accuracy: 1e-5 * abs(torchLoss[0]), line: line)
        model.zeroGrad()
        let dx = try XCTUnwrap(model.backward(logitsGradient: dLogits, inputGradient: true))
        let inputGradient = Tensor(shape: [n, h, w, c], scalars: Array(UnsafeBufferPointer(start: dx, count: x.count)))
        XCTAssertLessThanOrEqual(relativeL2Error(inputGradient.toNCHW(), try file.read("train/input_grad")), 1e-3,
                                 "\(kind): input gradient", line: line)
        for p in model.parameters {
            let expected: [Float] = try file.read("train/grad/" + p.name)
            XCTAssertLessThanOrEqual(relativeL2Error(p.torchLayout(p.grad), expected), 1e-3, "\(kind): gradient of \(p.name)", line: line)
        }
        // torchvision's state_dict size (counted from its modules), shortcuts included.
        XCTAssertEqual(model.stateTensors.count, tensors, line: line)
        XCTAssertTrue(model.stateTensors.contains { $0.name == "layer2/0/downsample/0/weight" })
    }

    // Stem 5 + fc 2; basic blocks 10 tensors, bottlenecks 15, projections 5 (2 of them for the
    // basic net, 3 for the bottleneck one, whose first block already widens 4 → 16).
    func testBasicBlocksMatchTorchvision() throws { try checkParity("basic", blocks: 5, tensors: 7 + 5 * 10 + 2 * 5) }
    func testBottleneckBlocksMatchTorchvision() throws { try checkParity("bottleneck", blocks: 5, tensors: 7 + 5 * 15 + 3 * 5) }
    // fastai's head instead of fc: 2 BatchNorm1d (4 tensors each) and 2 bias-free Linears.
    func testFastaiHeadMatchesPyTorch() throws { try checkParity("basic-fastai", blocks: 5, tensors: 5 + 5 * 10 + 2 * 5 + 10) }

    /// The head's dropout (p/2, p) is active in training, keyed by step and sample like every dropout
    /// of the engine (the same masks on any rank count), and off at inference.
    func testFastaiHeadDropoutIsKeyedBySample() throws {
        let config = ResNetConfig(name: "d", block: .basic, layers: [1, 1], width: 4, numClasses: 3, inputSize: 24,
                                  inputWidth: 28, head: .fastai, headHidden: 32, headDropout: 0.5)
        let model = try ResNet(config: config, seed: 3)
        let x = randomArray(4 * 24 * 28 * 3, seed: 5)
        func logits(_ images: [Float], batch: Int, training: Bool, first: Int = 0, stride: Int = 1) -> [Float] {
            model.setRandomStream(step: 7, firstSample: first, sampleStride: stride)
            return Array(UnsafeBufferPointer(start: model.forward(images, batch: batch, height: 24, width: 28, training: training),
                                             count: batch * 3))
        }
        XCTAssertEqual(logits(x, batch: 4, training: false), logits(x, batch: 4, training: false))
        let a = logits(x, batch: 4, training: true), b = logits(x, batch: 4, training: true)
        XCTAssertEqual(a, b, "the same step and samples: the same masks")
        model.setRandomStream(step: 8, firstSample: 0, sampleStride: 1)
        let c = Array(UnsafeBufferPointer(start: model.forward(x, batch: 4, height: 24, width: 28, training: true), count: 12))
        XCTAssertNotEqual(a, c, "another step: other masks")
        XCTAssertNotEqual(a, logits(x, batch: 4, training: false), "dropout is active in training")
    }

    func testThreeSGDMomentumStepsMatchTorch() throws {
        let (model, file, x, labels) = try load("basic")
        let sgd = try file.group("sgd")
        let optimizer = SGD(schedule: LearningRateSchedule(base: try sgd.attribute("lr", as: Double.self)),
                            momentum: Float(try sgd.attribute("momentum", as: Double.self)),
                            weightDecay: Float(try sgd.attribute("weight_decay", as: Double.self)))
        for p in model.parameters { p.decays = true }   // PyTorch decays every parameter
        for _ in 0..<Int(try sgd.attribute("steps", as: Int64.self)) {
            try model.trainStep(images: x.scalars, labels: labels, height: x.shape[1], width: x.shape[2],
                                loss: SoftmaxCrossEntropy(), optimizer: optimizer)
        }
        for tensor in model.stateTensors {
            XCTAssertLessThanOrEqual(relativeL2Error(tensor.torchLayout(), try sgd.read(tensor.name)), 1e-4, tensor.name)
        }
        XCTAssertLessThanOrEqual(relativeL2Error(model.predict(x).scalars, try file.read("sgd_eval_logits")), 1e-4)
    }

    /// Finite differences through one residual block of each kind, with the identity and with the
    /// projection shortcut (the residual sum and its ReLU are the new parts; every layer inside has
    /// its own check in LayerGradientTests), input and parameters, training-mode BatchNorm.
    func testResidualBlockGradientsMatchFiniteDifferences() throws {
        for kind in [ResNetConfig.Block.basic, .bottleneck] {
            for (inChannels, stride) in [(4 * kind.expansion, 1), (3, 2)] {
                var g = SplitMix64(seed: 8, skipping: 0)
                let block = ResNet.ResidualBlock(name: "b", kind: kind, inChannels: inChannels, width: 4, stride: stride,
                                                 generator: &g)
                XCTAssertEqual(block.downsample == nil, stride == 1 && inChannels == block.outChannels)
                let (n, h, w) = (2, 7, 6)
                let scratch = ResNet.Scratch()
                var x = randomArray(n * h * w * inChannels, seed: 41)
                let (oh, ow) = block.outputSize(height: h, width: w)
                let r = randomArray(n * oh * ow * block.outChannels, seed: 42)
                func loss() -> Double {
                    x.withUnsafeBufferPointer { xp in
                        GradientCheck.dot(block.forward(xp.baseAddress!, batch: n, height: h, width: w, training: true,
                                                        scratch: scratch), r, count: r.count)
                    }
                }
                _ = loss()
                for p in block.tensors where p.trainable { p.zeroGrad() }
                var dy = r, dx = [Float](repeating: 0, count: x.count)
                x.withUnsafeBufferPointer { xp in
                    block.backward(xp.baseAddress!, batch: n, height: h, width: w, dy: &dy, dx: &dx, scratch: scratch)
                }
                let what = "\(kind), \(inChannels) channels, stride \(stride)"
                let indices = GradientCheck.sample(x.count)
                let numeric = GradientCheck.numeric(indices: indices, step: 1e-3, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
                XCTAssertLessThan(GradientCheck.relativeError(indices.map { Double(dx[$0]) }, numeric), 1e-2, "\(what): input")
                for p in block.tensors where p.trainable {
                    let grad = p.grad, idx = GradientCheck.sample(p.count, limit: 12)
                    let numericW = GradientCheck.numeric(p, indices: idx, step: 1e-3, loss: loss)
                    XCTAssertLessThan(GradientCheck.relativeError(idx.map { Double(grad[$0]) }, numericW), 1e-2, "\(what): \(p.name)")
                }
            }
        }
    }

    func testCelldeathPresetsMatchTheirYAML() throws {
        for depth in [18, 34, 50] {
            let name = "celldeath-resnet\(depth)"
            guard case let .resnet(config) = try ModelConfig.load(name) else { return XCTFail("\(name) is not a ResNet") }
            XCTAssertEqual(config, ResNetConfig.presets[name], "config/models/\(name).yaml and the built-in preset differ")
            XCTAssertEqual(config.head, .fastai); XCTAssertEqual(config.inputNormalization, .imagenet)
            guard case let .resnet(plain) = try ModelConfig.load("resnet\(depth)") else { return XCTFail() }
            XCTAssertTrue(ModelConfig.resnet(plain).sharesBody(with: .resnet(config)))
        }
    }

    func testPresetsAreTorchvisionDepths() throws {
        for (name, depth) in [("resnet18", 18), ("resnet34", 34), ("resnet50", 50)] {
            guard case let .resnet(config) = try ModelConfig.load(name) else { return XCTFail("\(name) is not a ResNet") }
            XCTAssertEqual(config, ResNetConfig.presets[name], "config/models/\(name).yaml and the built-in preset differ")
            let model = try ResNet(config: config)
            // Weighted layers: the stem, every block's convolutions, fc (torchvision's depth count).
            XCTAssertEqual(1 + model.blocks.reduce(0) { $0 + $1.convs.count } + 1, depth)
            let expected = [18: 11_177_538, 34: 21_285_698, 50: 23_512_130][depth]!
            XCTAssertEqual(model.parameterCount, expected, "\(name) parameters (torchvision with 2 classes)")
        }
    }
}
