import Determinism

/// A plain stack of layers (`architecture: sequential`): the paper's small CNNs, as a PyTorch
/// `nn.Sequential` of the same list would compute them. Every layer's output is kept for backward
/// (these nets are small); each layer's forward sits next to its backward in `SequentialLayers.swift`.
/// Tensors are named by layer index, as that `nn.Sequential`'s state_dict (`0/weight`, `4/running_mean`).
public final class SequentialNet: Model {
    public let config: SequentialConfig
    let layers: [SequentialLayer]
    /// The per-image input shape of every layer, and the output of the last (shapes[layers.count]).
    public private(set) var shapes: [FeatureShape] = []
    private var outputs: [FloatBuffer]
    private let gradientA = FloatBuffer(), gradientB = FloatBuffer(), scratch = FloatBuffer()
    private var input: UnsafePointer<Float>?
    private var batch = 0, training = false
    private let seed: UInt64

    public init(config: SequentialConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        self.seed = seed
        var generator = SplitMix64(seed: seed, skipping: 1)
        var shape = FeatureShape(height: config.inputSize, width: config.inputWidth, channels: config.inputChannels)
        var layers: [SequentialLayer] = []
        for (i, spec) in config.layers.enumerated() {
            layers.append(Self.make(spec, index: i, input: shape, seed: seed, generator: &generator))
            shape = try shape.after(spec)
        }
        self.layers = layers
        outputs = layers.map { _ in FloatBuffer() }
        shapes = Self.shapes(config, height: config.inputSize, width: config.inputWidth)
    }

    private static func make(_ spec: SequentialConfig.LayerSpec, index i: Int, input: FeatureShape, seed: UInt64,
                             generator: inout SplitMix64) -> SequentialLayer {
        switch spec {
        case let .conv(filters, kernel, stride, padding, bias):
            return ConvLayer(Conv2D(name: "\(i)", inChannels: input.channels, outChannels: filters, kernel: kernel,
                                    stride: stride, padding: padding, bias: bias, generator: &generator))
        case .batchNorm: return BatchNormLayer(BatchNorm2D(name: "\(i)", channels: input.channels))
        case .relu, .softmax: return spec == .relu ? ReLULayer() : IdentityLayer()
        case let .maxPool(kernel, stride): return PoolLayer(MaxPool2D(kernel: kernel, stride: stride))
        case let .avgPool(kernel, stride): return PoolLayer(AvgPool2D(kernel: kernel, stride: stride))
        case let .dropout(rate): return DropoutLayer(rate: Float(rate), seed: seed, index: i)
        case .flatten: return FlattenLayer()
        case .globalAvgPool: return GlobalPoolLayer(sum: false)
        case .globalSumPool: return GlobalPoolLayer(sum: true)
        case let .dense(units):
            return DenseLayer(Dense(name: "\(i)", inFeatures: input.count, outFeatures: units, generator: &generator))
        }
    }

    /// The shape entering each layer for an input of height × width (and the final output).
    static func shapes(_ config: SequentialConfig, height: Int, width: Int) -> [FeatureShape] {
        var shape = FeatureShape(height: height, width: width, channels: config.inputChannels)
        var out = [shape]
        for spec in config.layers {
            shape = (try? shape.after(spec)) ?? FeatureShape(height: 0, width: 0, channels: 0)
            out.append(shape)
        }
        return out
    }

    /// Layer `i`'s output of the last forward (tests read it).
    func layerOutput(_ i: Int) -> UnsafeMutablePointer<Float> { outputs[i].pointer }

    // MARK: Model

    public var modelConfig: ModelConfig { .sequential(config) }
    public var stateTensors: [Parameter] { layers.flatMap(\.tensors) }
    public var parameters: [Parameter] { stateTensors.filter(\.trainable) }
    public var buffers: [Parameter] { stateTensors.filter { !$0.trainable } }
    public var inputKernelName: String? {
        (layers.first { $0 is ConvLayer } as? ConvLayer)?.conv.weight.name
    }
    public var gradientsReady: ((Parameter) -> Void)?

    public var batchNormSync: BatchNormSync? {
        didSet { for case let layer as BatchNormLayer in layers { layer.norm.sync = batchNormSync } }
    }

    public func replica() throws -> any Model {
        let copy = try SequentialNet(config: config, seed: seed)   // the seed keys the dropout masks
        copy.copyState(from: self)
        return copy
    }

    /// Dropout masks come from (seed, layer, step, position in the global batch): the same masks
    /// under any rank count, and again after a resume.
    public func setRandomStream(step: Int, firstSample: Int, sampleStride: Int) {
        for case let layer as DropoutLayer in layers {
            layer.step = UInt64(step); layer.firstSample = firstSample; layer.sampleStride = sampleStride
        }
    }

    @discardableResult
    public func forward(_ images: UnsafePointer<Float>, batch: Int, height: Int, width: Int, training: Bool) -> UnsafePointer<Float> {
        precondition(height == config.inputSize && width == config.inputWidth,
                     "model '\(config.name)' takes \(config.inputSize)×\(config.inputWidth) input, got \(height)×\(width)")
        input = images; self.batch = batch; self.training = training
        var x = images
        for (i, layer) in layers.enumerated() {
            let y = outputs[i].reserve(batch * shapes[i + 1].count)
            layer.forward(x, y, batch: batch, input: shapes[i], training: training)
            x = UnsafePointer(y)
        }
        return x
    }

    @discardableResult
    public func backward(logitsGradient: UnsafePointer<Float>, inputGradient: Bool) -> UnsafePointer<Float>? {
        precondition(training, "backward needs a training-mode forward")
        return backward(logitsGradient, inputGradient: inputGradient)
    }

    /// How a ReLU passes gradients back: `exact` (dy where x > 0), or `guided` (Springenberg et
    /// al. 2015: only positive dy where x > 0), for guided-backprop saliency.
    public enum ReLURule: Sendable { case exact, guided }

    /// Backward from the last forward of either mode (an inference-mode forward makes BatchNorm its
    /// fixed affine, dropout the identity: what saliency methods differentiate). `capture`: a layer
    /// whose output gradient is copied into `captured` (Grad-CAM's dY/dA).
    @discardableResult
    public func backward(_ logitsGradient: UnsafePointer<Float>, inputGradient: Bool, relu rule: ReLURule = .exact,
                         capture: Int? = nil, captured: UnsafeMutablePointer<Float>? = nil) -> UnsafePointer<Float>? {
        for case let layer as ReLULayer in layers { layer.guided = rule == .guided }
        for case let layer as BatchNormLayer in layers { layer.inference = !training }
        defer { for case let layer as ReLULayer in layers { layer.guided = false } }
        var dy = logitsGradient
        var buffers = (gradientA, gradientB)
        for i in layers.indices.reversed() {
            if i == capture, let captured { captured.update(from: dy, count: batch * shapes[i + 1].count) }
            let x = i == 0 ? input! : UnsafePointer(outputs[i - 1].pointer)
            let wantDx = i > 0 || inputGradient
            let dx = wantDx ? buffers.0.reserve(batch * shapes[i].count) : nil
            layers[i].backward(x: x, y: UnsafePointer(outputs[i].pointer), dy: dy, dx: dx, batch: batch,
                               input: shapes[i], scratch: scratch)
            if let first = layers[i].tensors.first(where: \.trainable) { gradientsReady?(first) }
            guard let dx else { return nil }
            dy = UnsafePointer(dx)
            buffers = (buffers.1, buffers.0)
        }
        return dy
    }

    public func forwardFLOPs(height: Int, width: Int) -> Double {
        let s = Self.shapes(config, height: height, width: width)
        return layers.indices.reduce(0) { $0 + layers[$1].flops(input: s[$1], output: s[$1 + 1]) }
    }

    public func trainingFLOPs(height: Int, width: Int) -> Double {
        let s = Self.shapes(config, height: height, width: width)
        let first = layers.first.map { $0.flops(input: s[0], output: s[1]) } ?? 0
        return 3 * forwardFLOPs(height: height, width: width) - first   // no input gradient for the first layer
    }

    public func memoryBytes(batch: Int, height: Int, width: Int, training: Bool) -> Double {
        let s = Self.shapes(config, height: height, width: width)
        let n = Double(batch)
        var floats = Double(stateTensors.reduce(0) { $0 + $1.count })
        if training { floats += 2 * Double(parameterCount) }   // gradients + one optimizer slot
        floats += n * s.dropFirst().reduce(0) { $0 + Double($1.count) }   // every layer's output
        var col = 0.0
        for (i, layer) in layers.enumerated() {
            if let conv = (layer as? ConvLayer)?.conv {
                let c = Double(conv.chunking(batch: batch, height: s[i].height, width: s[i].width).colFloats)
                col = max(col, training ? 3 * c : c)
                floats += Double(conv.cachedFloats(training: training))
            }
        }
        floats += col
        if training { floats += 2 * n * Double(s.map(\.count).max() ?? 0) }   // the two gradient buffers
        return 4 * floats
    }
}
