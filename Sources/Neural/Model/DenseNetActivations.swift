/// Every tensor of one DenseNet step, declared once with its shape (llm.c's ActivationTensors).
///
/// N batch, H×W×C_in the images, H₀×W₀×C₀ after conv0, h×w and C_b a dense block's spatial size
/// and output channels, k growth, B = bn_size·k, K classes, C_L the last block's channels.
/// rows = N·h·w of the block at hand. Buffers grow to the largest batch seen and never shrink,
/// so a training step allocates nothing after the first.
/// Layers keep a little state of their own for backward: each BatchNorm2D its batch mean and
/// σ⁻¹, MaxPool2D its argmax.
final class DenseNetActivations {
    // Kept from a training forward for backward.
    let input = FloatBuffer()              // [N, H, W, C_in]  conv0's input
    let stemOutput = FloatBuffer()         // [N·H₀·W₀, C₀]    conv0's output = norm0's input
    let blocks: [BlockActivations]         // one per dense block: its feature maps, see there
    let pooled = FloatBuffer()             // [N, C_L]         global average pool = classifier input
    let logits = FloatBuffer()             // [N, K]

    // Scratch shared by every layer: valid only inside one layer's forward or backward.
    let normed = FloatBuffer()             // [rows, C]   a BN+ReLU output (recomputed in backward, never kept)
    let normedGradient = FloatBuffer()     // [rows, C]
    let bottleneck = FloatBuffer()         // [rows, B]   conv1's output at inference (training keeps it per layer)
    let bottleneckGradient = FloatBuffer() // [rows, B]
    let transitionOutput = FloatBuffer()   // [rows, C_b/2] a transition's conv output, then its gradient
    let col = FloatBuffer()                // im2col rows of the convolution being run
    let stemGradient = FloatBuffer()       // [N·H₀·W₀, C₀]
    let inputGradient = FloatBuffer()      // [N, H, W, C_in]
    let pooledGradient = FloatBuffer()     // [N, C_L]
    let logitsGradient = FloatBuffer()     // [N, K]

    /// The last forward's batch and image size, and whether it kept what backward needs.
    private(set) var batch = 0, height = 0, width = 0
    private(set) var training = false

    init(blocks: [DenseNet.DenseBlock]) {
        self.blocks = blocks.map { BlockActivations(channels: $0.outChannels, layers: $0.layers.count) }
    }

    /// Starts a forward: copies the images [N, H, W, C_in] in (conv0's backward reads them).
    func begin(_ images: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int, training: Bool) {
        self.batch = batch; self.height = height; self.width = width; self.training = training
        input.reserve(batch * height * width * channels).update(from: images, count: batch * height * width * channels)
    }
}

extension DenseNetActivations {
    /// Floats the buffers above hold now (tests compare it with `DenseNet.memoryBytes`).
    var allocatedFloats: Int {
        var buffers = [input, stemOutput, pooled, logits, normed, normedGradient, bottleneck, bottleneckGradient,
                       transitionOutput, col, stemGradient, inputGradient, pooledGradient, logitsGradient]
        for block in blocks { buffers += [block.features, block.gradient] + block.bottlenecks }
        return buffers.reduce(0) { $0 + ($1.capacity > 16 ? $1.capacity : 0) }
    }
}

extension DenseNet {
    /// Bytes a forward (and with `training` a backward, gradients and one optimizer slot) of
    /// `batch` images needs: the tensors plus the buffers of `DenseNetActivations`, sized as the
    /// layers reserve them. In Double, so that an absurd batch size cannot overflow.
    public func memoryBytes(batch: Int, height: Int, width: Int, training: Bool) -> Double {
        let n = Double(batch)
        var floats = Double(allTensors.reduce(0) { $0 + $1.count })
        if training { floats += 2 * Double(parameterCount) }   // gradients + SGD momentum
        // im2col scratch; backward lowers the gradient next to it (dy lowered when it passes one on).
        func colFloats(_ conv: Conv2D, _ h: Int, _ w: Int, inputGradient: Bool = true) -> Double {
            let (images, col) = conv.chunking(batch: batch, height: h, width: w)
            let (oh, ow) = conv.outputSize(height: h, width: w)
            let lowered = inputGradient ? Double(images * oh * ow * conv.kernelH * conv.kernelW * conv.outChannels) : 0
            return training ? Double(col) + max(Double(col), lowered) : Double(col)
        }
        let (h0, w0) = stem.conv0.outputSize(height: height, width: width)
        let stemFloats = n * Double(h0 * w0 * stem.conv0.outChannels)
        floats += n * Double(height * width * config.inputChannels) + stemFloats   // input, stemOutput
        var (h, w) = stem.pool0.outputSize(height: h0, width: w0)
        floats += n * Double(h * w * stem.conv0.outChannels)   // pool0's argmax (Int32)
        var normed = stemFloats, bottleneck = 0.0, transition = 0.0
        var col = colFloats(stem.conv0, height, width, inputGradient: false)
        for (i, block) in blocks.enumerated() {
            let rows = n * Double(h * w)
            floats += rows * Double(block.outChannels) * (training ? 2 : 1)   // features (+ gradient)
            normed = max(normed, rows * Double(block.outChannels))
            for layer in block.layers {
                bottleneck = max(bottleneck, rows * Double(layer.bottleneck))
                if training { floats += rows * Double(layer.bottleneck) }     // kept for backward
                col = max(col, colFloats(layer.conv2, h, w))
                floats += Double(layer.conv2.cachedFloats(training: training))
            }
            if i < transitions.count {
                transition = max(transition, rows * Double(transitions[i].conv.outChannels))
                (h, w) = transitions[i].pool.outputSize(height: h, width: w)
            }
        }
        let head = n * Double(featureCount + config.numClasses)   // pooled, logits
        floats += normed + bottleneck + transition + col + head
        if training { floats += normed + stemFloats + head }   // their gradients (bottleneckGradient replaces bottleneck)
        return 4 * floats
    }
}
