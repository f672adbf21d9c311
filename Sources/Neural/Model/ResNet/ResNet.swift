import Determinism
import Foundation

/// A ResNet (He et al., *Deep Residual Learning for Image Recognition*, 2016) with torchvision's
/// structure and state_dict names: conv1 7×7/2 → bn1 → ReLU → max-pool 3×3/2 → layer1…layerN of
/// `ResidualBlock`s → global average pool → fc (or fastai's head, `FastaiHead`). Channels-last like
/// every network of the engine; any input height × width the stages can reduce.
public final class ResNet: Model {
    public let config: ResNetConfig
    public let conv1: Conv2D, bn1: BatchNorm2D, maxpool: MaxPool2D
    /// stages[i][j] is torchvision's layer{i+1}.{j}.
    public let stages: [[ResidualBlock]]
    /// torchvision's classifier, or nil with fastai's head.
    public let fc: Dense?
    public let fastaiHead: FastaiHead?
    public var gradientsReady: ((Parameter) -> Void)?

    /// Buffers every block shares: convolution lowering and backward's gradients.
    final class Scratch {
        let col = FloatBuffer(), a = FloatBuffer(), b = FloatBuffer(), z = FloatBuffer()
    }
    private let scratch = Scratch()
    // The last forward: its input, the stem's pre-BN and post-ReLU outputs, the pooled features.
    private let input = FloatBuffer(), stemPre = FloatBuffer(), stemPost = FloatBuffer(), pooled = FloatBuffer()
    private let stemPooled = FloatBuffer(), logits = FloatBuffer()
    private let gradientA = FloatBuffer(), gradientB = FloatBuffer(), inputGradient = FloatBuffer()
    private var shape = (batch: 0, height: 0, width: 0), training = false
    /// Each block's input size in the last forward.
    private var blockInputs: [(height: Int, width: Int)] = []

    /// Weights and dropout masks come from it (a replica keeps it).
    private let seed: UInt64

    public init(config: ResNetConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config; self.seed = seed
        var g = SplitMix64(seed: seed, skipping: 0)
        conv1 = Conv2D(name: "conv1", inChannels: config.inputChannels, outChannels: config.width, kernel: 7, stride: 2,
                       padding: 3, generator: &g)
        bn1 = BatchNorm2D(name: "bn1", channels: config.width)
        maxpool = MaxPool2D(kernel: 3, stride: 2, padding: 1)
        var channels = config.width
        var stages: [[ResidualBlock]] = []
        for (i, count) in config.layers.enumerated() {
            let width = config.width << i
            stages.append((0..<count).map { j in
                let block = ResidualBlock(name: "layer\(i + 1)/\(j)", kind: config.block, inChannels: channels, width: width,
                                          stride: i > 0 && j == 0 ? 2 : 1, generator: &g)
                channels = block.outChannels
                return block
            })
        }
        self.stages = stages
        if config.head == .fastai {
            fc = nil
            fastaiHead = FastaiHead(features: channels, hidden: config.headHidden, classes: config.numClasses,
                                    dropout: config.headDropout, seed: seed, generator: &g)
        } else {
            fc = Dense(name: "fc", inFeatures: channels, outFeatures: config.numClasses, generator: &g)
            fastaiHead = nil
        }
        features = channels
    }

    /// Channels of the last stage (the head's input).
    public let features: Int
    private var headTensors: [Parameter] { fc?.parameters ?? fastaiHead!.tensors }

    var blocks: [ResidualBlock] { stages.flatMap { $0 } }

    // MARK: Model

    public var modelConfig: ModelConfig { .resnet(config) }
    /// torchvision's state_dict order.
    public var stateTensors: [Parameter] {
        conv1.parameters + bn1.parameters + bn1.state + blocks.flatMap(\.tensors) + headTensors
    }
    public var parameters: [Parameter] { stateTensors.filter(\.trainable) }

    /// fastai's `_resnet_split`: 0 the stem and the first half of the stages (conv1 … layer2), 1 the
    /// other stages (layer3, layer4), 2 the head.
    public var layerGroups: [LayerGroupMember]? {
        var members: [LayerGroupMember] = []
        func add(_ tensors: [Parameter], _ group: Int, batchNorm: Bool) {
            for p in tensors where p.trainable { members.append(LayerGroupMember(parameter: p, group: group, batchNorm: batchNorm)) }
        }
        add(conv1.parameters, 0, batchNorm: false)
        add(bn1.parameters, 0, batchNorm: true)
        let half = (stages.count + 1) / 2
        for (i, stage) in stages.enumerated() {
            for block in stage {
                let norms = Set(block.batchNorms.flatMap(\.parameters).map(\.name))
                for p in block.tensors where p.trainable {
                    members.append(LayerGroupMember(parameter: p, group: i < half ? 0 : 1, batchNorm: norms.contains(p.name)))
                }
            }
        }
        if let fc { add(fc.parameters, 2, batchNorm: false) }
        if let head = fastaiHead {
            let norms = Set((head.norm1.parameters + head.norm2.parameters).map(\.name))
            for p in head.tensors where p.trainable { members.append(LayerGroupMember(parameter: p, group: 2, batchNorm: norms.contains(p.name))) }
        }
        return members
    }
    public var buffers: [Parameter] { stateTensors.filter { !$0.trainable } }
    public var inputKernelName: String? { conv1.weight.name }
    public var batchNormSync: BatchNormSync? {
        didSet { for norm in [bn1] + blocks.flatMap(\.batchNorms) + (fastaiHead?.batchNorms ?? []) { norm.sync = batchNormSync } }
    }

    public func setRandomStream(step: Int, firstSample: Int, sampleStride: Int) {
        for dropout in fastaiHead?.dropouts ?? [] {
            dropout.step = UInt64(step); dropout.firstSample = firstSample; dropout.sampleStride = sampleStride
        }
    }

    public func replica() throws -> any Model {
        let copy = try ResNet(config: config, seed: seed)
        copy.copyState(from: self)
        return copy
    }

    @discardableResult
    public func forward(_ images: UnsafePointer<Float>, batch n: Int, height: Int, width: Int,
                        training: Bool) -> UnsafePointer<Float> {
        shape = (n, height, width); self.training = training
        let cin = config.inputChannels, c0 = config.width
        let x = input.reserve(n * height * width * cin)
        x.update(from: images, count: n * height * width * cin)
        let (h0, w0) = conv1.outputSize(height: height, width: width)
        let z = stemPre.reserve(n * h0 * w0 * c0), a = stemPost.reserve(n * h0 * w0 * c0)
        Profiler.time(.convStem) {
            conv1.forward(x: x, ldx: cin, batch: n, height: height, width: width, y: z, ldy: c0, col: scratch.col)
        }
        bn1.forward(x: z, ldx: c0, rows: n * h0 * w0, y: a, ldy: c0, relu: true, training: training)
        var (h, w) = maxpool.outputSize(height: h0, width: w0)
        var features = UnsafePointer(stemPooled.reserve(n * h * w * c0))
        maxpool.forward(x: a, ldx: c0, batch: n, height: h0, width: w0, channels: c0,
                        y: UnsafeMutablePointer(mutating: features), ldy: c0)
        blockInputs = []
        for block in blocks {
            blockInputs.append((h, w))
            features = UnsafePointer(block.forward(features, batch: n, height: h, width: w, training: training, scratch: scratch))
            (h, w) = block.outputSize(height: h, width: w)
        }
        let out = logits.reserve(n * config.numClasses)
        if let head = fastaiHead {
            head.forward(features, batch: n, pixels: h * w, training: training, logits: out)
        } else if let fc {
            let p = pooled.reserve(n * fc.inFeatures)
            GlobalAvgPool.forward(x: features, ldx: fc.inFeatures, batch: n, pixels: h * w, channels: fc.inFeatures, y: p)
            fc.forward(x: p, batch: n, y: out)
        }
        return UnsafePointer(out)
    }

    @discardableResult
    public func backward(logitsGradient: UnsafePointer<Float>, inputGradient wantInput: Bool) -> UnsafePointer<Float>? {
        precondition(training, "backward needs a training-mode forward")
        let (n, height, width) = shape
        let c = features
        let last = blocks.last!
        let (lh, lw) = last.outputSize(height: blockInputs.last!.height, width: blockInputs.last!.width)
        var dy = gradientA.reserve(n * lh * lw * c)
        if let head = fastaiHead {
            head.backward(logitsGradient: logitsGradient, dx: dy)
        } else if let fc {
            let dPooled = scratch.z.reserve(n * c)
            fc.backward(x: pooled.pointer, batch: n, dy: logitsGradient, dx: dPooled)
            GlobalAvgPool.backward(dy: UnsafePointer(dPooled), batch: n, pixels: lh * lw, channels: c, dx: dy, lddx: c)
        }
        gradientsReady?(headTensors[0])
        // Each block's input is the previous block's output (the pooled stem for the first); the
        // gradient between blocks alternates between two buffers.
        let all = blocks
        var intoA = false
        for (k, block) in all.enumerated().reversed() {
            let (h, w) = blockInputs[k]
            let x = k == 0 ? UnsafePointer(stemPooled.pointer) : UnsafePointer(all[k - 1].outputPointer)
            let dx = (intoA ? gradientA : gradientB).reserve(n * h * w * block.inChannels)
            block.backward(x, batch: n, height: h, width: w, dy: dy, dx: dx, scratch: scratch)
            gradientsReady?(block.convs[0].weight)
            dy = dx
            intoA.toggle()
        }
        let c0 = config.width
        let (h0, w0) = conv1.outputSize(height: height, width: width)
        let dStem = scratch.z.reserve(n * h0 * w0 * c0)
        maxpool.backward(dy: dy, lddy: c0, batch: n, height: h0, width: w0, channels: c0, dx: dStem, lddx: c0)
        bn1.backward(x: stemPre.pointer, ldx: c0, rows: n * h0 * w0, dy: dStem, lddy: c0, dx: dStem, lddx: c0,
                     accumulate: false, relu: true)
        let cin = config.inputChannels
        let dx = wantInput ? inputGradient.reserve(n * height * width * cin) : nil
        Profiler.time(.convStem) {
            conv1.backward(x: input.pointer, ldx: cin, batch: n, height: height, width: width, dy: dStem, lddy: c0,
                           dx: dx, lddx: cin, col: scratch.col)
        }
        gradientsReady?(conv1.weight)
        return dx.map { UnsafePointer($0) }
    }

    // MARK: saliency

    /// Inference numbers with a backward (saliency maps): every BatchNorm frozen to its running
    /// statistics, the head's dropout off; with `guided`, every ReLU passes only positive gradients.
    public func setSaliencyMode(_ on: Bool, guided: Bool = false) {
        // `guided` acts on a BatchNorm's fused ReLU: only those followed by one (not the last of a
        // block, the shortcut's, or the head's) take it.
        let fusedReLU = Set(([bn1] + blocks.flatMap { $0.norms.dropLast() }).map(ObjectIdentifier.init))
        for norm in [bn1] + blocks.flatMap(\.batchNorms) + (fastaiHead?.batchNorms ?? []) {
            norm.frozen = on; norm.guided = on && guided && fusedReLU.contains(ObjectIdentifier(norm))
        }
        for block in blocks { block.guided = on && guided }
        fastaiHead?.guided = on && guided
        for dropout in fastaiHead?.dropouts ?? [] { dropout.enabled = !on }
    }

    /// The last stage's output of the last forward, A [n·h·w, C], and its size (Grad-CAM's target,
    /// what pytorch-grad-cam takes at `model.layer4[-1]`).
    public var lastStage: (pointer: UnsafePointer<Float>, height: Int, width: Int, channels: Int) {
        let (h, w) = blocks.last!.outputSize(height: blockInputs.last!.height, width: blockInputs.last!.width)
        return (UnsafePointer(blocks.last!.outputPointer), h, w, features)
    }

    /// d(Σ seed·logits)/dA for the last stage's output A, through the head only (after a
    /// training-mode forward, e.g. in saliency mode). [n·h·w, C].
    public func lastStageGradient(_ seed: UnsafePointer<Float>) -> [Float] {
        let (_, h, w, c) = lastStage
        let n = shape.batch
        var out = [Float](repeating: 0, count: n * h * w * c)
        out.withUnsafeMutableBufferPointer { dA in
            if let head = fastaiHead {
                head.backward(logitsGradient: seed, dx: dA.baseAddress!)
            } else if let fc {
                let dPooled = scratch.z.reserve(n * c)
                fc.backward(x: pooled.pointer, batch: n, dy: seed, dx: dPooled)
                GlobalAvgPool.backward(dy: UnsafePointer(dPooled), batch: n, pixels: h * w, channels: c, dx: dA.baseAddress!, lddx: c)
            }
        }
        return out
    }

    // MARK: sizes

    public func forwardFLOPs(height: Int, width: Int) -> Double {
        var flops = 0.0
        func conv(_ c: Conv2D, _ h: Int, _ w: Int) {
            let (oh, ow) = c.outputSize(height: h, width: w)
            flops += 2 * Double(oh * ow * c.outChannels * c.patchLength)
        }
        conv(conv1, height, width)
        let (h0, w0) = conv1.outputSize(height: height, width: width)
        var (h, w) = maxpool.outputSize(height: h0, width: w0)
        for block in blocks {
            var (ih, iw) = (h, w)
            for c in block.convs { conv(c, ih, iw); (ih, iw) = c.outputSize(height: ih, width: iw) }
            if let d = block.downsample { conv(d.conv, h, w) }
            (h, w) = block.outputSize(height: h, width: w)
        }
        let head = fastaiHead.map { 2 * $0.features * $0.hidden + $0.hidden * $0.classes } ?? features * config.numClasses
        return flops + 2 * Double(head)
    }

    public func trainingFLOPs(height: Int, width: Int) -> Double {
        let (oh, ow) = conv1.outputSize(height: height, width: width)
        return 3 * forwardFLOPs(height: height, width: width) - 2 * Double(oh * ow * conv1.outChannels * conv1.patchLength)
    }

    public func memoryBytes(batch n: Int, height: Int, width: Int, training: Bool) -> Double {
        var floats = Double(stateTensors.reduce(0) { $0 + $1.count })
        if training { floats += 2 * Double(parameterCount) }
        let (h0, w0) = conv1.outputSize(height: height, width: width)
        var (h, w) = maxpool.outputSize(height: h0, width: w0)
        floats += Double(n * height * width * config.inputChannels) + 2 * Double(n * h0 * w0 * config.width)
            + Double(n * h * w * config.width)
        var col = Double(conv1.chunking(batch: n, height: height, width: width).colFloats) * (training ? 2 : 1)
        var largest = Double(n * h0 * w0 * config.width)
        for block in blocks {
            floats += Double(block.keptFloats(batch: n, height: h, width: w))
            var (ih, iw) = (h, w)
            for c in block.convs + (block.downsample.map { [$0.conv] } ?? []) {
                if c === block.downsample?.conv { (ih, iw) = (h, w) }   // the shortcut reads the block input
                let chunk = Double(c.chunking(batch: n, height: ih, width: iw).colFloats)
                col = max(col, training ? 3 * chunk : chunk)
                floats += Double(c.cachedFloats(training: training))
                (ih, iw) = c.outputSize(height: ih, width: iw)
                largest = max(largest, Double(n * ih * iw * c.outChannels), Double(n * h * w * block.inChannels))
            }
            (h, w) = block.outputSize(height: h, width: w)
        }
        let headFloats = fastaiHead.map { 14 * $0.features + 6 * $0.hidden } ?? features
        floats += col + largest * (training ? 5 : 1) + 2 * Double(n * (headFloats + config.numClasses))
        return 4 * floats
    }

    // MARK: element-wise helpers

    /// y = max(0, y + s).
    static func addReLU(_ y: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, count: Int) {
        let nv = count & ~15
        var i = 0
        while i < nv { store(pointwiseMax(load(y + i) + load(s + i), Vec()), y + i); i += 16 }
        while i < count { y[i] = max(0, y[i] + s[i]); i += 1 }
    }
}
