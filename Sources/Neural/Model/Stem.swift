import Determinism

extension DenseNet {
    /// conv0 7×7/2 → norm0 → ReLU → pool0 3×3/2 max, into the first C₀ channels of block 1.
    public final class Stem {
        public let conv0: Conv2D, norm0: BatchNorm2D, pool0: MaxPool2D

        init(inChannels: Int, features: Int, generator: inout SplitMix64) {
            conv0 = Conv2D(name: "features/conv0", inChannels: inChannels, outChannels: features,
                           kernel: 7, stride: 2, padding: 3, generator: &generator)
            norm0 = BatchNorm2D(name: "features/norm0", channels: features)
            pool0 = MaxPool2D(kernel: 3, stride: 2, padding: 1)
        }

        var tensors: [Parameter] { conv0.parameters + norm0.parameters + norm0.state }

        func forward(_ a: DenseNetActivations, into block: BlockActivations) {
            let (n, c0) = (a.batch, conv0.outChannels)
            let (h0, w0) = conv0.outputSize(height: a.height, width: a.width)
            let y = a.stemOutput.reserve(n * h0 * w0 * c0), r = a.normed.reserve(n * h0 * w0 * c0)
            Profiler.time(.convStem) {
                conv0.forward(x: a.input.pointer, ldx: conv0.inChannels, batch: n, height: a.height, width: a.width,
                              y: y, ldy: c0, col: a.col)
            }
            norm0.forward(x: y, ldx: c0, rows: n * h0 * w0, y: r, ldy: c0, relu: true, training: a.training)
            let (h, w) = pool0.outputSize(height: h0, width: w0)
            pool0.forward(x: r, ldx: c0, batch: n, height: h0, width: w0, channels: c0,
                          y: block.begin(batch: n, height: h, width: w), ldy: block.channels)
            if a.training { block.computeStatistics(channels: 0..<c0) }
        }

        /// Returns dLoss/dimages [N, H, W, C_in] when `inputGradient`.
        func backward(_ a: DenseNetActivations, from block: BlockActivations,
                      inputGradient: Bool) -> UnsafeMutablePointer<Float>? {
            let (n, c0) = (a.batch, conv0.outChannels)
            let (h0, w0) = conv0.outputSize(height: a.height, width: a.width)
            let dr = a.stemGradient.reserve(n * h0 * w0 * c0)
            pool0.backward(dy: block.gradient.pointer, lddy: block.channels, batch: n, height: h0, width: w0,
                           channels: c0, dx: dr, lddx: c0)
            norm0.backward(x: a.stemOutput.pointer, ldx: c0, rows: n * h0 * w0, dy: dr, lddy: c0, dx: dr, lddx: c0,
                           accumulate: false, relu: true)
            let cin = conv0.inChannels
            let dx = inputGradient ? a.inputGradient.reserve(n * a.height * a.width * cin) : nil
            Profiler.time(.convStem) {
                conv0.backward(x: a.input.pointer, ldx: cin, batch: n, height: a.height, width: a.width,
                               dy: dr, lddy: c0, dx: dx, lddx: cin, col: a.col)
            }
            return dx
        }
    }
}
