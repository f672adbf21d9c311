import Determinism
import Storage
import XCTest
@testable import Neural

/// Guided backprop, Grad-CAM and guided Grad-CAM: PyTorch parity (tools/make_saliency_fixture.py),
/// where the maps look on synthetic patches, and the model-randomisation sanity check of Adebayo et
/// al. (2018).
final class SaliencyTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func relativeError(_ a: [Float], _ b: [Float]) -> Double { relativeL2Error(a, b) }

    func testMapsMatchPyTorchHooks() throws {
        let model = try WeightIO.loadModel(path: Self.fixtures.appendingPathComponent("sequential-parity.h5").path)
        let file = try HDF5File.open(Self.fixtures.appendingPathComponent("saliency.h5").path)
        let x = Tensor.fromNCHW(try file.read("input"), n: 4, c: 2, h: 16, w: 16)
        let classes: [Int64] = try file.read("class")
        let saliency = try Saliency(model, layer: 6)
        XCTAssertEqual(try Saliency(model).layer, 6, "the last convolution's ReLU (3×3 after the stride-2 convolution)")
        func nchw(_ maps: [Float]) -> [Float] { Tensor(shape: [4, 16, 16, 2], scalars: maps).toNCHW() }
        let guided = saliency.maps(x.scalars, batch: 4, classes: classes.map(Int.init), method: .guidedBackprop)
        XCTAssertLessThanOrEqual(relativeError(nchw(guided), try file.read("guided_backprop")), 1e-4, "guided backprop")
        let cam = saliency.maps(x.scalars, batch: 4, classes: classes.map(Int.init), method: .gradCAM)
        XCTAssertLessThanOrEqual(relativeError(cam, try file.read("grad_cam/upsampled")), 1e-4, "Grad-CAM")
        XCTAssertGreaterThan(cam.max()!, 0)
        let both = saliency.maps(x.scalars, batch: 4, classes: classes.map(Int.init), method: .guidedGradCAM)
        XCTAssertLessThanOrEqual(relativeError(nchw(both), try file.read("guided_grad_cam")), 1e-4, "guided Grad-CAM")
        XCTAssertThrowsError(try Saliency(model, layer: 9)) { XCTAssert("\($0)".contains("no spatial map output"), "\($0)") }
    }

    /// DenseNet: guided backprop through frozen BatchNorm with guided fused ReLUs, Grad-CAM at
    /// features/norm5, against a torch DenseNet of torchvision's structure on parity.h5's weights.
    func testDenseNetMapsMatchPyTorchHooks() throws {
        let model = try WeightIO.loadModel(path: Self.fixtures.appendingPathComponent("parity.h5").path)
        let file = try HDF5File.open(Self.fixtures.appendingPathComponent("saliency.h5").path)
        let x = Tensor.fromNCHW(try file.read("densenet/input"), n: 4, c: 3, h: 32, w: 32)
        let classes: [Int64] = try file.read("densenet/class")
        let saliency = try Saliency(model)
        XCTAssertEqual(saliency.layerName, "features/norm5")
        func nchw(_ maps: [Float]) -> [Float] { Tensor(shape: [4, 32, 32, 3], scalars: maps).toNCHW() }
        let before = model.stateTensors.map(\.value)
        XCTAssertLessThanOrEqual(relativeError(nchw(saliency.maps(x.scalars, batch: 4, classes: classes.map(Int.init), method: .guidedBackprop)),
                                               try file.read("densenet/guided_backprop")), 1e-4, "guided backprop")
        XCTAssertLessThanOrEqual(relativeError(saliency.maps(x.scalars, batch: 4, classes: classes.map(Int.init), method: .gradCAM),
                                               try file.read("densenet/grad_cam/upsampled")), 1e-4, "Grad-CAM")
        XCTAssertLessThanOrEqual(relativeError(nchw(saliency.maps(x.scalars, batch: 4, classes: classes.map(Int.init), method: .guidedGradCAM)),
                                               try file.read("densenet/guided_grad_cam")), 1e-4, "guided Grad-CAM")
        XCTAssertEqual(model.stateTensors.map(\.value), before, "saliency leaves weights and running statistics as they were")
        XCTAssertThrowsError(try Saliency(model, layer: 3))
    }

    /// ResNet (torchvision's BasicBlock; plain and fastai heads): guided backprop with every ReLU
    /// guided (the residual sum's included), Grad-CAM at the last stage's output, against PyTorch
    /// hooks on the same weights (tools/make_resnet_fixture.py), on non-square input.
    func testResNetMapsMatchPyTorchHooks() throws {
        let file = try HDF5File.open(Self.fixtures.appendingPathComponent("resnet-saliency.h5").path)
        for name in ["resnet-basic", "resnet-basic-fastai"] {
            let model = try WeightIO.loadModel(path: Self.fixtures.appendingPathComponent("\(name)-parity.h5").path)
            let x = Tensor.fromNCHW(try file.read("\(name)/input"), n: 3, c: 3, h: 40, w: 48)
            let classes: [Int64] = try file.read("\(name)/class")
            let saliency = try Saliency(model)
            XCTAssertEqual(saliency.layerName, "layer3 (the last stage's output)")
            let before = model.stateTensors.map(\.value)
            let guided = saliency.maps(x.scalars, batch: 3, classes: classes.map(Int.init), method: .guidedBackprop)
            XCTAssertLessThanOrEqual(relativeError(Tensor(shape: [3, 40, 48, 3], scalars: guided).toNCHW(),
                                                   try file.read("\(name)/guided_backprop")), 1e-4, "\(name): guided backprop")
            let cam = saliency.maps(x.scalars, batch: 3, classes: classes.map(Int.init), method: .gradCAM)
            XCTAssertLessThanOrEqual(relativeError(cam, try file.read("\(name)/grad_cam/upsampled")), 1e-4, "\(name): Grad-CAM")
            XCTAssertGreaterThan(cam.max()!, 0)
            XCTAssertEqual(model.stateTensors.map(\.value), before, "\(name): saliency leaves weights and running statistics as they were")
            XCTAssertThrowsError(try Saliency(model, layer: 2))
        }
    }

    /// Frozen BatchNorm: a training-mode forward gives the inference logits, and its input gradient is
    /// the inference network's (finite differences).
    func testFrozenBatchNormIsTheInferenceNetwork() throws {
        let model = try DenseNet(config: DenseNetConfig.presets["densenet-tiny"]!, seed: 3)
        for (i, norm) in model.allBatchNorms.enumerated() {
            var g = SplitMix64(seed: UInt64(i), 1)
            for j in 0..<norm.channels { norm.runningMean.value[j] = 0.2 * g.nextNormal(); norm.runningVar.value[j] = 0.5 + g.nextUnitFloat() }
        }
        let (n, s) = (2, 20)
        var x = randomArray(n * s * s, seed: 8)
        let r = randomArray(n * 3, seed: 9)
        let inference = Array(UnsafeBufferPointer(start: model.forward(x, batch: n, height: s, width: s, training: false), count: n * 3))
        for norm in model.allBatchNorms { norm.frozen = true }
        let frozen = Array(UnsafeBufferPointer(start: model.forward(x, batch: n, height: s, width: s, training: true), count: n * 3))
        XCTAssertLessThanOrEqual(relativeError(frozen, inference), 1e-6)
        let dx = Array(UnsafeBufferPointer(start: model.backward(logitsGradient: r, inputGradient: true)!, count: x.count))
        for norm in model.allBatchNorms { norm.frozen = false }
        let idx = GradientCheck.sample(x.count, limit: 40)
        let numeric = GradientCheck.numeric(indices: idx, step: 1e-3, get: { x[$0] }, set: { x[$0] = $1 }) {
            GradientCheck.dot(model.forward(x, batch: n, height: s, width: s, training: false), r, count: n * 3)
        }
        XCTAssertLessThan(GradientCheck.relativeError(idx.map { Double(dx[$0]) }, numeric), 2e-2)
    }

    /// A small net trained to find a bright disc in noise: Grad-CAM's mass lies on the disc; under
    /// cascading randomisation of the weights from the top, Grad-CAM decorrelates from the trained
    /// model's map (Spearman < 0.5 once every layer is random); guided backprop's correlation is
    /// printed as it is (Adebayo et al. found it nearly invariant).
    func testMapsLookAtTheNucleusAndFailTheRandomisationCheckHonestly() throws {
        let size = 24
        let config = SequentialConfig(name: "disc", inputSize: size, layers: [
            .conv(filters: 8, kernel: 3, stride: 1, padding: 0, bias: true), .relu, .maxPool(kernel: 2, stride: 2),
            .conv(filters: 16, kernel: 3, stride: 1, padding: 0, bias: true), .relu, .flatten, .dense(units: 2)])
        var g = SplitMix64(seed: 11)
        func sample(disc: Bool) -> (pixels: [Float], center: (Double, Double)) {
            let cx = 6 + g.nextUnit() * Double(size - 12), cy = 6 + g.nextUnit() * Double(size - 12)
            var p = [Float](repeating: 0, count: size * size)
            for y in 0..<size { for x in 0..<size {
                let inside = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= 9
                p[y * size + x] = g.nextNormal() * 0.5 + (disc && inside ? 3 : 0)
            } }
            return (p, (cx, cy))
        }
        let net = try SequentialNet(config: config, seed: 4)
        let optimizer = SGD(schedule: LearningRateSchedule(base: 0.02), momentum: 0.9)
        for _ in 0..<150 {
            var batch: [Float] = [], labels: [Int] = []
            for i in 0..<16 { batch += sample(disc: i % 2 == 1).pixels; labels.append(i % 2) }
            try net.trainStep(images: batch, labels: labels, height: size, width: size, loss: SoftmaxCrossEntropy(), optimizer: optimizer)
        }
        var test: [Float] = [], centers: [(Double, Double)] = []
        for _ in 0..<20 { let s = sample(disc: true); test += s.pixels; centers.append(s.center) }
        let logits = net.predict(Tensor(shape: [20, size, size, 1], scalars: test)).scalars
        XCTAssertEqual((0..<20).filter { logits[2 * $0 + 1] > logits[2 * $0] }.count, 20, "the disc is found")

        let saliency = try Saliency(net)
        let classes = [Int](repeating: 1, count: 20)
        let cam = saliency.maps(test, batch: 20, classes: classes, method: .gradCAM)
        let guided = saliency.maps(test, batch: 20, classes: classes, method: .guidedBackprop).map(abs)
        // Mass within 2 px of the disc's rim (radius 3): the disc and its edge are ≈ 20 % of the patch.
        func inside(_ maps: [Float]) -> Double {
            var within = 0.0, total = 0.0
            for n in 0..<20 { for y in 0..<size { for x in 0..<size {
                let v = Double(maps[(n * size + y) * size + x])
                let (cx, cy) = centers[n]
                total += v
                if (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= 25 { within += v }
            } } }
            return within / max(total, 1e-30)
        }
        let camInside = inside(cam), guidedInside = inside(guided)
        print("saliency: share of the map within 5 px of the disc centre (≈ 14 % of the patch): Grad-CAM \(camInside), guided backprop \(guidedInside)")
        XCTAssertGreaterThan(camInside, 0.5)
        XCTAssertGreaterThan(guidedInside, 0.5)

        // Cascading randomisation: re-draw the weights of the top layer, then the next, … (a fresh init of another seed).
        let random = try SequentialNet(config: config, seed: 99)
        var camRho: [Double] = [], guidedRho: [Double] = []
        for layer in [6, 3, 0] {
            for (target, source) in zip(net.layers[layer].tensors, random.layers[layer].tensors) { target.value = source.value }
            camRho.append(meanSpearman(cam, saliency.maps(test, batch: 20, classes: classes, method: .gradCAM), maps: 20))
            guidedRho.append(meanSpearman(guided, saliency.maps(test, batch: 20, classes: classes, method: .guidedBackprop).map(abs), maps: 20))
        }
        print("saliency: cascading randomisation (dense, conv 2, conv 1 re-drawn): Spearman vs the trained map — "
              + "Grad-CAM \(camRho.map { String(format: "%.2f", $0) }), guided backprop \(guidedRho.map { String(format: "%.2f", $0) })")
        XCTAssertLessThan(camRho.last!, 0.5, "Grad-CAM of a fully random network no longer follows the trained one")
    }

    /// Mean over maps of Spearman's rank correlation (average ranks for ties; a constant map correlates 0).
    func meanSpearman(_ a: [Float], _ b: [Float], maps: Int) -> Double {
        func ranks(_ v: ArraySlice<Float>) -> [Double] {
            let order = v.indices.sorted { v[$0] < v[$1] }
            var r = [Double](repeating: 0, count: v.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
                for k in i...j { r[order[k] - v.startIndex] = Double(i + j) / 2 }
                i = j + 1
            }
            return r
        }
        let n = a.count / maps
        var sum = 0.0
        for m in 0..<maps {
            let ra = ranks(a[m * n ..< (m + 1) * n]), rb = ranks(b[m * n ..< (m + 1) * n])
            let ma = ra.reduce(0, +) / Double(n), mb = rb.reduce(0, +) / Double(n)
            var sab = 0.0, saa = 0.0, sbb = 0.0
            for i in 0..<n { sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) * (ra[i] - ma); sbb += (rb[i] - mb) * (rb[i] - mb) }
            sum += saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
        }
        return sum / Double(maps)
    }
}
