import Determinism
import XCTest
@testable import Neural

final class DenseNetTests: XCTestCase {
    func tinyModel(seed: UInt64 = 1) throws -> DenseNet {
        try DenseNet(config: DenseNetConfig.presets["densenet-tiny"]!, seed: seed)
    }

    func testPresetsMatchConfigFiles() throws {
        // config/models/*.yaml and the built-in presets must describe the same networks.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for name in ["densenet121", "densenet-small", "densenet-tiny"] {
            let text = try String(contentsOf: root.appendingPathComponent("config/models/\(name).yaml"), encoding: .utf8)
            XCTAssertEqual(try DenseNetConfig.parse(yaml: text), DenseNetConfig.presets[name], name)
        }
    }

    func testDenseNet121MatchesTorchvisionStructure() throws {
        let model = try DenseNet(config: DenseNetConfig.presets["densenet121"]!)
        // torchvision densenet121(num_classes=3) with a 1-channel stem: 6,964,106 − 2·64·49 + (3 − 1000)·1025 ... checked
        // directly: 7,978,856 (ImageNet, 3 ch, 1000 classes) − 6,272 (2 stem channels) − 997·1,025 (classifier).
        XCTAssertEqual(model.parameterCount, 7_978_856 - 6_272 - 997 * 1_025)
        XCTAssertEqual(model.blocks.map(\.outChannels), [256, 512, 1024, 1024])
        XCTAssertEqual(model.transitions.map(\.conv.outChannels), [128, 256, 512])
        XCTAssertEqual(model.allTensors.first?.name, "features/conv0/weight")
        XCTAssertTrue(model.allTensors.contains { $0.name == "features/denseblock3/denselayer24/conv2/weight" })
        XCTAssertEqual(model.allTensors.last?.name, "classifier/bias")
        // 3-channel stem FLOPs per image at 112×112 forward (torch FlopCounter: 0.717 GFLOP for 3 channels).
        let threeChannel = try DenseNet(config: DenseNetConfig(name: "x", growthRate: 32, blockConfig: [6, 12, 24, 16],
                                                               initialFeatures: 64, inputChannels: 3))
        // A training image costs 3× forward minus the stem's input gradient: 4.15 GFLOP (torch's FlopCounter).
        let forward = threeChannel.forwardFLOPs(height: 112, width: 112)
        let stem = 2.0 * 64 * 3 * 49 * 56 * 56
        XCTAssertEqual((3 * forward - stem) / 1e9, 4.15, accuracy: 0.01)
    }

    func testRejectsBadConfig() {
        XCTAssertThrowsError(try DenseNetConfig.parse(yaml: "name: x\ngrowth_rate: 0\nblock_config: [1]\nnum_init_features: 4")) {
            XCTAssert("\($0)".contains("growth_rate"), "\($0)")
        }
        XCTAssertThrowsError(try DenseNetConfig.load("no-such-model"))
    }

    /// Finite differences through the whole network (inputs and a sample of every tensor's weights).
    func testWholeDenseNetTinyGradients() throws {
        let model = try tinyModel()
        let (n, h, w) = (2, 20, 20)
        var x = randomArray(n * h * w, seed: 30)
        let r = randomArray(n * 3, seed: 31)
        func loss() -> Double {
            let logits = model.forward(x, batch: n, height: h, width: w, training: true)
            return GradientCheck.dot(logits, r, count: n * 3)
        }
        _ = loss()
        model.zeroGrad()
        let dx = model.backward(logitsGradient: r, inputGradient: true)!
        let inputGradient = Array(UnsafeBufferPointer(start: dx, count: x.count))
        let idx = GradientCheck.sample(x.count, limit: 60)
        let numericX = GradientCheck.numeric(indices: idx, step: 1e-3, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
        let inputError = GradientCheck.relativeError(idx.map { Double(inputGradient[$0]) }, numericX)
        XCTAssertLessThan(inputError, 2e-2, "input gradient")
        // BatchNorm makes some gradients almost exactly zero (e.g. norm0's scale: the next BN undoes
        // it), where float32 rounding dominates a finite difference. So: one relative error over all
        // sampled coordinates, and per tensor an error relative to max(‖g‖, 3e-2).
        var allAnalytic: [Double] = [], allNumeric: [Double] = []
        var worst = (0.0, "")
        for p in model.parameters {
            let sample = GradientCheck.sample(p.count, limit: 12, seed: UInt64(p.count))
            let numeric = GradientCheck.numeric(p, indices: sample, step: 1e-3, loss: loss)
            let analytic = sample.map { Double(p.grad[$0]) }
            allAnalytic += analytic; allNumeric += numeric
            let diff = zip(analytic, numeric).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            let norm = max(analytic.map { $0 * $0 }.reduce(0, +).squareRoot(), 3e-2)
            if diff / norm > worst.0 { worst = (diff / norm, p.name) }
        }
        XCTAssertLessThan(GradientCheck.relativeError(allAnalytic, allNumeric), 5e-3, "all parameter gradients")
        XCTAssertLessThan(worst.0, 2e-2, "worst parameter gradient: \(worst.1)")
    }

    /// Memory-efficient block, recomputation and inference path agree: inference with running
    /// statistics equal to the batch statistics gives the training-mode logits.
    func testInferenceMatchesTrainingWhenStatisticsAgree() throws {
        let model = try tinyModel()
        let (n, h, w) = (3, 16, 16)
        let x = randomArray(n * h * w, seed: 33)
        let train = Array(UnsafeBufferPointer(start: model.forward(x, batch: n, height: h, width: w, training: true), count: 9))
        for bn in model.allBatchNorms {   // running statistics := the batch statistics just used
            bn.runningMean.value = bn.mean
            bn.runningVar.value = bn.invStd.map { 1 / ($0 * $0) - bn.epsilon }
        }
        let infer = Array(UnsafeBufferPointer(start: model.forward(x, batch: n, height: h, width: w, training: false), count: 9))
        for i in 0..<9 { XCTAssertEqual(train[i], infer[i], accuracy: 1e-4 * max(1, abs(train[i]))) }
    }

    func testNonFiniteLossStopsWithStep() throws {
        let model = try tinyModel()
        let optimizer = SGD(schedule: LearningRateSchedule(base: 0.01), momentum: 0.9)
        var x = randomArray(2 * 16 * 16, seed: 34)
        try model.trainStep(images: x, labels: [0, 1], height: 16, width: 16, loss: SoftmaxCrossEntropy(), optimizer: optimizer)
        let before = model.stem.conv0.weight.value
        x[5] = .nan
        XCTAssertThrowsError(try model.trainStep(images: x, labels: [0, 1], height: 16, width: 16,
                                                 loss: SoftmaxCrossEntropy(), optimizer: optimizer)) { error in
            guard case .nonFiniteLoss(step: 1, let value)? = error as? NeuralError else { return XCTFail("\(error)") }
            XCTAssertTrue(value.isNaN)
            XCTAssert("\(error)".contains("step 1"), "\(error)")
        }
        XCTAssertEqual(model.stem.conv0.weight.value, before, "weights untouched by the failed step")
    }

    /// A small separable problem: the three classes look like the paper's (small bright lobed,
    /// large diffuse, background debris). densenet-tiny must learn it.
    func testTinyDenseNetLearnsSeparableProblem() throws {
        let size = 24
        func image(_ label: Int, _ g: inout SplitMix64) -> [Float] {
            var img = [Float](repeating: 0, count: size * size)
            let cx = Float(size) / 2 + 3 * (g.nextUnitFloat() - 0.5), cy = Float(size) / 2 + 3 * (g.nextUnitFloat() - 0.5)
            for y in 0..<size { for x in 0..<size {
                let d = ((Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)).squareRoot()
                var v: Float
                switch label {
                case 0: v = (x + y) % 6 < 2 ? 0.6 : 0          // debris: diagonal streaks
                case 1: v = d < 3.5 ? 1.5 : 0                  // small bright nucleus
                default: v = d < 9 ? 0.5 : 0                   // large diffuse NET
                }
                img[y * size + x] = v + 0.2 * g.nextNormal()
            } }
            return img
        }
        func dataset(_ count: Int, seed: UInt64) -> ([Float], [Int]) {
            var g = SplitMix64(seed: seed, skipping: 1)
            var xs: [Float] = [], ys: [Int] = []
            for i in 0..<count { let y = i % 3; xs += image(y, &g); ys.append(y) }
            return (xs, ys)
        }
        let (trainX, trainY) = dataset(96, seed: 40)
        let (testX, testY) = dataset(60, seed: 41)
        let model = try tinyModel(seed: 3)
        let optimizer = Adam(schedule: LearningRateSchedule(base: 3e-3, kind: .cosine(totalSteps: 300, minimum: 3e-4),
                                                            warmupSteps: 10))
        let batch = 16
        var firstLosses: [Double] = [], lastLosses: [Double] = []
        var g = SplitMix64(seed: 5, skipping: 1)
        for step in 0..<300 {
            var xs: [Float] = [], ys: [Int] = []
            for _ in 0..<batch {
                let i = Int(g.next() % 96)
                xs += trainX[i * size * size ..< (i + 1) * size * size]; ys.append(trainY[i])
            }
            let l = try model.trainStep(images: xs, labels: ys, height: size, width: size,
                                        loss: SoftmaxCrossEntropy(), optimizer: optimizer)
            if step < 10 { firstLosses.append(l) }
            if step >= 290 { lastLosses.append(l) }
        }
        let logits = model.predict(Tensor(shape: [60, size, size, 1], scalars: testX))
        var correct = 0
        for i in 0..<60 {
            let row = Array(logits.scalars[i * 3 ..< i * 3 + 3])
            if row.firstIndex(of: row.max()!)! == testY[i] { correct += 1 }
        }
        let first = firstLosses.reduce(0, +) / 10, last = lastLosses.reduce(0, +) / 10
        XCTAssertLessThan(last, first / 4, "loss \(first) → \(last)")
        XCTAssertGreaterThanOrEqual(correct, 57, "test accuracy \(correct)/60")
    }

    func testSchedules() {
        let keras = LearningRateSchedule(base: 0.001, kind: .timeDecay(decay: 1e-7))
        XCTAssertEqual(keras.rate(at: 0), 0.001)
        XCTAssertEqual(keras.rate(at: 1_000_000), 0.001 / 1.1, accuracy: 1e-12)
        let step = LearningRateSchedule(base: 1, kind: .step(every: 10, gamma: 0.5), warmupSteps: 4)
        XCTAssertEqual(step.rate(at: 0), 0.25); XCTAssertEqual(step.rate(at: 3), 1)
        XCTAssertEqual(step.rate(at: 13), 1); XCTAssertEqual(step.rate(at: 14), 0.5)
        let cosine = LearningRateSchedule(base: 1, kind: .cosine(totalSteps: 104, minimum: 0), warmupSteps: 4)
        XCTAssertEqual(cosine.rate(at: 54), 0.5, accuracy: 1e-12)
        XCTAssertEqual(cosine.rate(at: 104), 0, accuracy: 1e-12)
    }

    func testOptimizersAgainstHandComputedSteps() {
        let p = Parameter(name: "w", shape: [2], value: [1, -2])
        let sgd = SGD(schedule: LearningRateSchedule(base: 0.1), momentum: 0.9, weightDecay: 0.01)
        p.grad = [0.5, 0.25]
        sgd.update([p])   // v = g + λw = [0.51, 0.23]; w −= 0.1 v
        XCTAssertEqual(p.value[0], 1 - 0.051, accuracy: 1e-6); XCTAssertEqual(p.value[1], -2 - 0.023, accuracy: 1e-6)
        sgd.update([p])   // v = 0.9 v + g + λw
        let v0 = 0.9 * 0.51 + 0.5 + 0.01 * (1 - 0.051)
        XCTAssertEqual(p.value[0], Float(1 - 0.051 - 0.1 * v0), accuracy: 1e-6)
        XCTAssertEqual(sgd.step, 2)
        let q = Parameter(name: "q", shape: [1], value: [1])
        let adam = Adam(schedule: LearningRateSchedule(base: 0.1))
        q.grad = [3]
        adam.update([q])  // first step moves by lr·sign(g)
        XCTAssertEqual(q.value[0], 0.9, accuracy: 1e-5)
        XCTAssertEqual(adam.stateTensors().map(\.name), ["m/q", "v/q"])
    }
}
