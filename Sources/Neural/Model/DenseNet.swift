import Determinism
import Foundation

/// DenseNet (Huang et al. 2017) exactly as torchvision builds it, read like the paper's figure:
///
///     stem:        conv0 7×7/2 → norm0 → ReLU → pool0 3×3/2 max
///     denseblockᵢ: denselayerⱼ = norm1 → ReLU → conv1 1×1 (bn_size·k) → norm2 → ReLU → conv2 3×3 (k),
///                  each layer's k new channels concatenated to its input
///     transitionᵢ: norm → ReLU → conv 1×1 (×compression) → 2×2/2 average pool
///     head:        norm5 → ReLU → global average pool → classifier (Linear)
///
/// Memory-efficient: a dense block owns one buffer [pixels, block output channels]
/// (channels-last); layer j reads the channel prefix it sees and writes its k channels in
/// place, so there is no re-concatenation. The BN+ReLU outputs (the large tensors) are not
/// kept: backward recomputes them into shared scratch from the block buffer and the saved
/// batch statistics. Per layer only the bottleneck output (bn_size·k channels) is stored.
/// Scratch buffers grow to the largest batch seen and are reused by every layer and step.
public final class DenseNet {
    public final class DenseLayer {
        public let inChannels: Int, growth: Int, bottleneck: Int
        public let norm1: BatchNorm2D, conv1: Conv2D, norm2: BatchNorm2D, conv2: Conv2D
        /// conv1's output from the last training forward (norm2's input, needed by backward).
        let bottleneckOutput = FloatBuffer()

        init(name: String, inChannels: Int, growth: Int, bottleneckSize: Int, generator: inout SplitMix64) {
            self.inChannels = inChannels; self.growth = growth; bottleneck = bottleneckSize * growth
            norm1 = BatchNorm2D(name: name + "/norm1", channels: inChannels)
            conv1 = Conv2D(name: name + "/conv1", inChannels: inChannels, outChannels: bottleneck, kernel: 1,
                           generator: &generator)
            norm2 = BatchNorm2D(name: name + "/norm2", channels: bottleneck)
            conv2 = Conv2D(name: name + "/conv2", inChannels: bottleneck, outChannels: growth, kernel: 3, padding: 1,
                           generator: &generator)
        }

        var parameters: [Parameter] { norm1.parameters + conv1.parameters + norm2.parameters + conv2.parameters }
        var state: [Parameter] { norm1.state + norm2.state }
    }

    public final class DenseBlock {
        public let layers: [DenseLayer]
        public let inChannels: Int, outChannels: Int
        public internal(set) var height = 0, width = 0
        /// Activations [batch·h·w, outChannels] and their gradient.
        let buffer = FloatBuffer(), gradient = FloatBuffer()
        /// Batch mean and biased variance of every channel, computed once when the channel is
        /// written (training); each BatchNorm reading the channel reuses them.
        var channelMean: [Double] = [], channelVariance: [Double] = []

        func computeStatistics(channels range: Range<Int>, rows: Int) {
            if channelMean.count != outChannels {
                channelMean = .init(repeating: 0, count: outChannels); channelVariance = channelMean
            }
            channelMean.withUnsafeMutableBufferPointer { m in
                channelVariance.withUnsafeMutableBufferPointer { v in
                    Profiler.time(.batchNorm) {
                        BatchNorm2D.statistics(x: buffer.pointer + range.lowerBound, ldx: outChannels, rows: rows,
                                               channels: range.count, mean: m.baseAddress! + range.lowerBound,
                                               variance: v.baseAddress! + range.lowerBound)
                    }
                }
            }
        }

        /// BatchNorm(+ReLU) of the first `channels` channels with the cached statistics.
        func normalize(_ norm: BatchNorm2D, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
            channelMean.withUnsafeBufferPointer { m in
                channelVariance.withUnsafeBufferPointer { v in
                    norm.forwardTraining(x: buffer.pointer, ldx: outChannels, rows: rows, y: y, ldy: ldy, relu: true,
                                         statistics: (m.baseAddress!, v.baseAddress!))
                }
            }
        }

        init(name: String, layers count: Int, inChannels: Int, growth: Int, bottleneckSize: Int,
             generator: inout SplitMix64) {
            self.inChannels = inChannels
            outChannels = inChannels + count * growth
            layers = (0..<count).map { j in
                DenseLayer(name: "\(name)/denselayer\(j + 1)", inChannels: inChannels + j * growth, growth: growth,
                           bottleneckSize: bottleneckSize, generator: &generator)
            }
        }
    }

    public final class Transition {
        public let norm: BatchNorm2D, conv: Conv2D, pool: AvgPool2D
        init(name: String, inChannels: Int, outChannels: Int, generator: inout SplitMix64) {
            norm = BatchNorm2D(name: name + "/norm", channels: inChannels)
            conv = Conv2D(name: name + "/conv", inChannels: inChannels, outChannels: outChannels, kernel: 1,
                          generator: &generator)
            pool = AvgPool2D(kernel: 2, stride: 2)
        }
    }

    public let config: DenseNetConfig
    public let conv0: Conv2D, norm0: BatchNorm2D, pool0: MaxPool2D
    public let blocks: [DenseBlock]
    public let transitions: [Transition]
    public let norm5: BatchNorm2D
    public let classifier: Dense
    public var featureCount: Int { blocks.last!.outChannels }

    // Activations and scratch, reused across layers and steps.
    private let input = FloatBuffer(), inputGradient = FloatBuffer()
    private let stemOutput = FloatBuffer(), stemActivated = FloatBuffer(), stemGradient = FloatBuffer()
    private let normed = FloatBuffer(), normedGradient = FloatBuffer()   // BN+ReLU outputs (recomputed)
    private let bottleneck = FloatBuffer(), bottleneckGradient = FloatBuffer()
    private let transitionOutput = FloatBuffer()
    private let col = FloatBuffer()
    private let features = FloatBuffer(), featuresGradient = FloatBuffer()
    private let logitsBuffer = FloatBuffer(), logitsGradient = FloatBuffer()
    private var batch = 0, height = 0, width = 0, stemHeight = 0, stemWidth = 0
    private var lastForwardWasTraining = false

    public init(config: DenseNetConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        var generator = SplitMix64(seed: seed, skipping: 1)
        conv0 = Conv2D(name: "features/conv0", inChannels: config.inputChannels, outChannels: config.initialFeatures,
                       kernel: 7, stride: 2, padding: 3, generator: &generator)
        norm0 = BatchNorm2D(name: "features/norm0", channels: config.initialFeatures)
        pool0 = MaxPool2D(kernel: 3, stride: 2, padding: 1)
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
        norm5 = BatchNorm2D(name: "features/norm5", channels: channels)
        classifier = Dense(name: "classifier", inFeatures: channels, outFeatures: config.numClasses, generator: &generator)
    }

    public convenience init(named name: String, seed: UInt64 = 0) throws {
        try self.init(config: DenseNetConfig.load(name), seed: seed)
    }

    /// Learnable tensors in PyTorch state_dict order.
    public var parameters: [Parameter] { allTensors.filter(\.trainable) }

    /// Every tensor a checkpoint holds (learnable + BatchNorm running statistics), state_dict order.
    public var allTensors: [Parameter] {
        var out = conv0.parameters + norm0.parameters + norm0.state
        for (i, block) in blocks.enumerated() {
            for layer in block.layers {
                out += layer.norm1.parameters + layer.norm1.state + layer.conv1.parameters
                out += layer.norm2.parameters + layer.norm2.state + layer.conv2.parameters
            }
            if i < transitions.count {
                let t = transitions[i]
                out += t.norm.parameters + t.norm.state + t.conv.parameters
            }
        }
        return out + norm5.parameters + norm5.state + classifier.parameters
    }

    /// Every BatchNorm of the network.
    public var allBatchNorms: [BatchNorm2D] {
        var out = [norm0]
        for (i, block) in blocks.enumerated() {
            for layer in block.layers { out += [layer.norm1, layer.norm2] }
            if i < transitions.count { out.append(transitions[i].norm) }
        }
        return out + [norm5]
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Forward FLOPs per image (multiply-adds × 2) of the convolutions and the classifier.
    public func forwardFLOPs(height h: Int, width w: Int) -> Double {
        var flops = 0.0
        func conv(_ c: Conv2D, _ h: Int, _ w: Int) -> (Int, Int) {
            let (oh, ow) = c.outputSize(height: h, width: w)
            flops += 2 * Double(oh * ow * c.outChannels * c.patchLength)
            return (oh, ow)
        }
        var (hh, ww) = conv(conv0, h, w)
        (hh, ww) = pool0.outputSize(height: hh, width: ww)
        for (i, block) in blocks.enumerated() {
            for layer in block.layers { _ = conv(layer.conv1, hh, ww); _ = conv(layer.conv2, hh, ww) }
            if i < transitions.count {
                _ = conv(transitions[i].conv, hh, ww)
                (hh, ww) = transitions[i].pool.outputSize(height: hh, width: ww)
            }
        }
        return flops + 2 * Double(classifier.inFeatures * classifier.outFeatures)
    }

    // MARK: forward

    /// Runs the network on `batch` channels-last images [batch, h, w, inputChannels] and returns
    /// a pointer to the logits [batch, numClasses] (valid until the next call).
    /// `training` uses batch statistics (and updates running ones) and keeps what backward needs.
    @discardableResult
    public func forward(_ images: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        training: Bool) -> UnsafePointer<Float> {
        self.batch = batch; self.height = height; self.width = width
        lastForwardWasTraining = training
        let cin = config.inputChannels
        let x = input.reserve(batch * height * width * cin)
        x.update(from: images, count: batch * height * width * cin)

        func bn(_ norm: BatchNorm2D, _ x: UnsafePointer<Float>, _ ldx: Int, _ rows: Int,
                _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
            if training { norm.forwardTraining(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: true) }
            else { norm.forwardInference(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: true) }
        }

        // Stem.
        let (h0, w0) = conv0.outputSize(height: height, width: width)
        stemHeight = h0; stemWidth = w0
        let c0 = config.initialFeatures
        let stemRows = batch * h0 * w0
        let a0 = stemOutput.reserve(stemRows * c0), r0 = stemActivated.reserve(stemRows * c0)
        Profiler.time(.convStem) {
            conv0.forward(x: x, ldx: cin, batch: batch, height: height, width: width, y: a0, ldy: c0, col: col)
        }
        bn(norm0, a0, c0, stemRows, r0, c0)
        var (h, w) = pool0.outputSize(height: h0, width: w0)
        let first = blocks[0]
        first.height = h; first.width = w
        pool0.forward(x: r0, ldx: c0, batch: batch, height: h0, width: w0, channels: c0,
                      y: first.buffer.reserve(batch * h * w * first.outChannels), ldy: first.outChannels)
        if training { first.computeStatistics(channels: 0..<c0, rows: batch * h * w) }

        for (b, block) in blocks.enumerated() {
            let rows = batch * h * w, cf = block.outChannels
            let buffer = block.buffer.pointer
            for layer in block.layers {
                let s1 = normed.reserve(rows * layer.inChannels)
                if training { block.normalize(layer.norm1, rows: rows, into: s1, ldy: layer.inChannels) }
                else { bn(layer.norm1, buffer, cf, rows, s1, layer.inChannels) }
                let y1 = training ? layer.bottleneckOutput.reserve(rows * layer.bottleneck)
                                  : bottleneck.reserve(rows * layer.bottleneck)
                layer.conv1.forward(x: s1, ldx: layer.inChannels, batch: batch, height: h, width: w,
                                    y: y1, ldy: layer.bottleneck, col: col)
                // norm2+ReLU is applied by conv2 while it lowers y1 (no separate pass, no stored output).
                if training { layer.norm2.prepareTraining(x: y1, ldx: layer.bottleneck, rows: rows) }
                layer.conv2.forward(x: y1, ldx: layer.bottleneck, batch: batch, height: h, width: w,
                                    y: buffer + layer.inChannels, ldy: cf, col: col,
                                    inputAffine: layer.norm2.affine(inference: !training))
                if training { block.computeStatistics(channels: layer.inChannels..<layer.inChannels + layer.growth, rows: rows) }
            }
            if b < transitions.count {
                let t = transitions[b]
                let s1 = normed.reserve(rows * cf)
                if training { block.normalize(t.norm, rows: rows, into: s1, ldy: cf) } else { bn(t.norm, buffer, cf, rows, s1, cf) }
                let out = transitionOutput.reserve(rows * t.conv.outChannels)
                t.conv.forward(x: s1, ldx: cf, batch: batch, height: h, width: w, y: out, ldy: t.conv.outChannels, col: col)
                let next = blocks[b + 1]
                let (ph, pw) = (h, w)
                (h, w) = t.pool.outputSize(height: h, width: w)
                next.height = h; next.width = w
                t.pool.forward(x: out, ldx: t.conv.outChannels, batch: batch, height: ph, width: pw,
                               channels: t.conv.outChannels,
                               y: next.buffer.reserve(batch * h * w * next.outChannels), ldy: next.outChannels)
                if training { next.computeStatistics(channels: 0..<t.conv.outChannels, rows: batch * h * w) }
            }
        }
        // Head.
        let last = blocks.last!
        let rows = batch * h * w, c = last.outChannels
        let s = normed.reserve(rows * c)
        if training { last.normalize(norm5, rows: rows, into: s, ldy: c) } else { bn(norm5, last.buffer.pointer, c, rows, s, c) }
        let f = features.reserve(batch * c)
        GlobalAvgPool.forward(x: s, ldx: c, batch: batch, pixels: h * w, channels: c, y: f)
        let logits = logitsBuffer.reserve(batch * config.numClasses)
        classifier.forward(x: f, batch: batch, y: logits)
        return UnsafePointer(logits)
    }

    // MARK: backward

    /// Accumulates parameter gradients for dLoss/dLogits of the last training forward.
    /// Returns dLoss/dInput [batch, h, w, inputChannels] when `inputGradient` is true.
    @discardableResult
    public func backward(logitsGradient dLogits: UnsafePointer<Float>, inputGradient wantInput: Bool = false)
        -> UnsafePointer<Float>? {
        precondition(lastForwardWasTraining, "backward needs a training-mode forward")
        let last = blocks.last!
        var h = last.height, w = last.width
        do {
            let rows = batch * h * w, c = last.outChannels
            let df = featuresGradient.reserve(batch * c)
            classifier.backward(x: features.pointer, batch: batch, dy: dLogits, dx: df)
            let ds = normedGradient.reserve(rows * c)
            GlobalAvgPool.backward(dy: df, batch: batch, pixels: h * w, channels: c, dx: ds, lddx: c)
            norm5.backward(x: last.buffer.pointer, ldx: c, rows: rows, dy: ds, lddy: c,
                           dx: last.gradient.reserve(rows * c), lddx: c, accumulate: false, relu: true)
        }
        for b in stride(from: blocks.count - 1, through: 0, by: -1) {
            let block = blocks[b]
            h = block.height; w = block.width
            let rows = batch * h * w, cf = block.outChannels
            let buffer = block.buffer.pointer
            if b < transitions.count {
                // Transition b: from the next block's input-channel gradient back to this block's buffer.
                let t = transitions[b], next = blocks[b + 1]
                let dOut = transitionOutput.reserve(rows * t.conv.outChannels)
                t.pool.backward(dy: next.gradient.pointer, lddy: next.outChannels, batch: batch, height: h, width: w,
                                channels: t.conv.outChannels, dx: dOut, lddx: t.conv.outChannels)
                let s1 = normed.reserve(rows * cf)
                t.norm.applyBatchStatistics(x: buffer, ldx: cf, rows: rows, y: s1, ldy: cf, relu: true)
                let ds1 = normedGradient.reserve(rows * cf)
                t.conv.backward(x: s1, ldx: cf, batch: batch, height: h, width: w, dy: dOut, lddy: t.conv.outChannels,
                                dx: ds1, lddx: cf, col: col)
                t.norm.backward(x: buffer, ldx: cf, rows: rows, dy: ds1, lddy: cf,
                                dx: block.gradient.reserve(rows * cf), lddx: cf, accumulate: false, relu: true)
            }
            let dBuffer = block.gradient.pointer
            for layer in block.layers.reversed() {
                let cin = layer.inChannels, nb = layer.bottleneck
                let y1 = layer.bottleneckOutput.pointer
                let ds2 = bottleneckGradient.reserve(rows * nb)
                layer.conv2.backward(x: y1, ldx: nb, batch: batch, height: h, width: w,
                                     dy: dBuffer + cin, lddy: cf, dx: ds2, lddx: nb, col: col,
                                     inputAffine: layer.norm2.affine(inference: false))
                // In place: norm2's dx overwrites its dy element by element.
                layer.norm2.backward(x: y1, ldx: nb, rows: rows, dy: ds2, lddy: nb, dx: ds2, lddx: nb,
                                     accumulate: false, relu: true)
                let s1 = normed.reserve(rows * cin)
                layer.norm1.applyBatchStatistics(x: buffer, ldx: cf, rows: rows, y: s1, ldy: cin, relu: true)
                let ds1 = normedGradient.reserve(rows * cin)
                layer.conv1.backward(x: s1, ldx: cin, batch: batch, height: h, width: w, dy: ds2, lddy: nb,
                                     dx: ds1, lddx: cin, col: col)
                layer.norm1.backward(x: buffer, ldx: cf, rows: rows, dy: ds1, lddy: cin, dx: dBuffer, lddx: cf,
                                     accumulate: true, relu: true)
            }
        }
        // Stem.
        let first = blocks[0]
        let c0 = config.initialFeatures, stemRows = batch * stemHeight * stemWidth
        let dr0 = stemGradient.reserve(stemRows * c0)
        pool0.backward(dy: first.gradient.pointer, lddy: first.outChannels, batch: batch,
                       height: stemHeight, width: stemWidth, channels: c0, dx: dr0, lddx: c0)
        norm0.backward(x: stemOutput.pointer, ldx: c0, rows: stemRows, dy: dr0, lddy: c0, dx: dr0, lddx: c0,
                       accumulate: false, relu: true)
        let cin = config.inputChannels
        let dx = wantInput ? inputGradient.reserve(batch * height * width * cin) : nil
        Profiler.time(.convStem) {
            conv0.backward(x: input.pointer, ldx: cin, batch: batch, height: height, width: width, dy: dr0, lddy: c0,
                           dx: dx, lddx: cin, col: col)
        }
        return dx.map { UnsafePointer($0) }
    }

    // MARK: training and inference helpers

    /// One optimisation step on a batch: forward, loss, backward, update. Throws (naming the
    /// step) if the loss is not finite, before any weight is touched.
    /// `beforeUpdate` sees the gradients before the optimizer does (data-parallel training
    /// all-reduces them there).
    @discardableResult
    public func trainStep(images: UnsafePointer<Float>, labels: [Int], height: Int, width: Int,
                          loss: ClassificationLoss, optimizer: Optimizer,
                          beforeUpdate: (([Parameter]) throws -> Void)? = nil) throws -> Double {
        let n = labels.count
        zeroGrad()
        let logits = forward(images, batch: n, height: height, width: width, training: true)
        let dLogits = logitsGradient.reserve(n * config.numClasses)
        let value = loss(logits: logits, labels: labels, classes: config.numClasses, gradient: dLogits)
        guard value.isFinite else { throw NeuralError.nonFiniteLoss(step: optimizer.step, value: Float(value)) }
        backward(logitsGradient: dLogits)
        if let beforeUpdate { try Profiler.time(.communication) { try beforeUpdate(parameters) } }
        optimizer.update(parameters)
        return value
    }

    /// Logits for channels-last images in inference mode, `batchSize` at a time.
    public func predict(_ images: Tensor, batchSize: Int = 32) -> Tensor {
        let (n, h, w, c) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        precondition(c == config.inputChannels)
        var out = [Float](repeating: 0, count: n * config.numClasses)
        images.scalars.withUnsafeBufferPointer { x in
            var start = 0
            while start < n {
                let count = min(batchSize, n - start)
                let logits = forward(x.baseAddress! + start * h * w * c, batch: count, height: h, width: w, training: false)
                for i in 0..<count * config.numClasses { out[start * config.numClasses + i] = logits[i] }
                start += count
            }
        }
        return Tensor(shape: [n, config.numClasses], scalars: out)
    }
}
