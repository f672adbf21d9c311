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
