import Determinism

/// DenseNet (Huang et al. 2017) exactly as torchvision builds it, read like the paper's figure:
///
///     stem:        conv0 7×7/2 → norm0 → ReLU → pool0 3×3/2 max
///     denseblockᵢ: denselayerⱼ = norm1 → ReLU → conv1 1×1 (bn_size·k) → norm2 → ReLU → conv2 3×3 (k),
///                  each layer's k new channels concatenated to its input
///     transitionᵢ: norm → ReLU → conv 1×1 (×compression) → 2×2/2 average pool
///     head:        norm5 → ReLU → global average pool → classifier (Linear)
///
/// Each part has its forward and backward side by side; `DenseNetActivations` declares every
/// tensor they share. Memory-efficient: a dense block owns one buffer [pixels, block output
/// channels] (channels-last) that its layers fill in place, so there is no re-concatenation. The
/// BN+ReLU outputs (the large tensors) are not kept: backward recomputes them into shared scratch
/// from the block buffer and the saved batch statistics. Per layer only the bottleneck output
/// (bn_size·k channels) is stored.
public final class DenseNet: Model {
    public let config: DenseNetConfig
    public let stem: Stem
    public let blocks: [DenseBlock]
    public let transitions: [Transition]
    public let head: Head
    public var featureCount: Int { blocks.last!.outChannels }
    let activations: DenseNetActivations

    public init(config: DenseNetConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        var generator = SplitMix64(seed: seed, skipping: 1)   // skipping 1: the weights of every earlier version
        stem = Stem(inChannels: config.inputChannels, features: config.initialFeatures, generator: &generator)
        var channels = config.initialFeatures
        var blocks: [DenseBlock] = [], transitions: [Transition] = []
        for (i, count) in config.blockConfig.enumerated() {
            let block = DenseBlock(name: "features/denseblock\(i + 1)", layers: count, inChannels: channels,
                                   growth: config.growthRate, bottleneckSize: config.bottleneckSize,
                                   generator: &generator)
            blocks.append(block)
            channels = block.outChannels
            if i + 1 < config.blockConfig.count {
                let out = Int(Double(channels) * config.compression)
                transitions.append(Transition(name: "features/transition\(i + 1)", inChannels: channels,
                                              outChannels: out, generator: &generator))
                channels = out
            }
        }
        self.blocks = blocks; self.transitions = transitions
        head = Head(features: channels, classes: config.numClasses, generator: &generator)
        activations = DenseNetActivations(blocks: blocks)
    }

    public convenience init(named name: String, seed: UInt64 = 0) throws {
        try self.init(config: DenseNetConfig.load(name), seed: seed)
    }

    /// Learnable tensors in PyTorch state_dict order.
    public var parameters: [Parameter] { allTensors.filter(\.trainable) }

    /// Every tensor a checkpoint holds (learnable + BatchNorm running statistics), state_dict order.
    public var allTensors: [Parameter] {
        var out = stem.tensors
        for (i, block) in blocks.enumerated() {
            out += block.tensors
            if i < transitions.count { out += transitions[i].tensors }
        }
        return out + head.tensors
    }

    /// Every BatchNorm of the network.
    public var allBatchNorms: [BatchNorm2D] {
        var out = [stem.norm0]
        for (i, block) in blocks.enumerated() {
            for layer in block.layers { out += [layer.norm1, layer.norm2] }
            if i < transitions.count { out.append(transitions[i].norm) }
        }
        return out + [head.norm5]
    }

    public var modelConfig: ModelConfig { .densenet(config) }
    public var stateTensors: [Parameter] { allTensors }
    /// BatchNorm running statistics, state_dict order.
    public var buffers: [Parameter] { allTensors.filter { !$0.trainable } }
    public var inputKernelName: String? { stem.conv0.weight.name }

    public func replica() throws -> any Model {
        let copy = try DenseNet(config: config)
        copy.copyState(from: self)
        return copy
    }

    public var gradientsReady: ((Parameter) -> Void)?

    public var batchNormSync: BatchNormSync? {
        didSet {
            for norm in allBatchNorms { norm.sync = batchNormSync }
            for block in activations.blocks { block.sync = batchNormSync }
        }
    }

    /// Forward FLOPs per image (multiply-adds × 2) of the convolutions and the classifier.
    public func forwardFLOPs(height h: Int, width w: Int) -> Double {
        var flops = 0.0
        func conv(_ c: Conv2D, _ h: Int, _ w: Int) -> (Int, Int) {
            let (oh, ow) = c.outputSize(height: h, width: w)
            flops += 2 * Double(oh * ow * c.outChannels * c.patchLength)
            return (oh, ow)
        }
        var (hh, ww) = conv(stem.conv0, h, w)
        (hh, ww) = stem.pool0.outputSize(height: hh, width: ww)
        for (i, block) in blocks.enumerated() {
            for layer in block.layers { _ = conv(layer.conv1, hh, ww); _ = conv(layer.conv2, hh, ww) }
            if i < transitions.count {
                _ = conv(transitions[i].conv, hh, ww)
                (hh, ww) = transitions[i].pool.outputSize(height: hh, width: ww)
            }
        }
        return flops + 2 * Double(head.classifier.inFeatures * head.classifier.outFeatures)
    }

    public func trainingFLOPs(height h: Int, width w: Int) -> Double {
        let (oh, ow) = stem.conv0.outputSize(height: h, width: w)
        let stemFLOPs = 2 * Double(oh * ow * stem.conv0.outChannels * stem.conv0.patchLength)
        return 3 * forwardFLOPs(height: h, width: w) - stemFLOPs   // no input gradient for the stem
    }

    // MARK: forward and backward

    /// Runs the network on `batch` channels-last images [batch, h, w, inputChannels] and returns
    /// a pointer to the logits [batch, numClasses] (valid until the next call).
    /// `training` uses batch statistics (and updates running ones) and keeps what backward needs.
    @discardableResult
    public func forward(_ images: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        training: Bool) -> UnsafePointer<Float> {
        let a = activations
        a.begin(images, batch: batch, height: height, width: width, channels: config.inputChannels, training: training)
        stem.forward(a, into: a.blocks[0])
        for (i, block) in blocks.enumerated() {
            block.forward(a, a.blocks[i])
            if i < transitions.count { transitions[i].forward(a, from: a.blocks[i], into: a.blocks[i + 1]) }
        }
        return UnsafePointer(head.forward(a, from: a.blocks.last!))
    }

    /// Accumulates parameter gradients for dLoss/dLogits of the last training forward.
    /// Returns dLoss/dInput [batch, h, w, inputChannels] when `inputGradient` is true.
    @discardableResult
    public func backward(logitsGradient dLogits: UnsafePointer<Float>, inputGradient wantInput: Bool = false)
        -> UnsafePointer<Float>? {
        let a = activations
        precondition(a.training, "backward needs a training-mode forward")
        // Parameters are in forward order and each unit writes only its own gradients, so a unit
        // done in backward makes its first parameter and everything after it final.
        head.backward(a, logitsGradient: dLogits, into: a.blocks.last!)
        gradientsReady?(head.norm5.weight)
        for i in blocks.indices.reversed() {
            if i < transitions.count {
                transitions[i].backward(a, from: a.blocks[i + 1], into: a.blocks[i])
                gradientsReady?(transitions[i].norm.weight)
            }
            blocks[i].backward(a, a.blocks[i], ready: gradientsReady)
        }
        let dx = stem.backward(a, from: a.blocks[0], inputGradient: wantInput).map { UnsafePointer($0) }
        gradientsReady?(stem.conv0.weight)
        return dx
    }
}
