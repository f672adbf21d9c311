import Determinism

extension DenseNet {
    /// norm1 → ReLU → conv1 1×1 (B = bn_size·k) → norm2 → ReLU → conv2 3×3 (k): reads the block's
    /// first `inChannels` channels and writes its k new ones right after them.
    /// norm2+ReLU is never materialised: conv2 applies it while lowering conv1's output (im2col).
    public final class DenseLayer {
        public let inChannels: Int, growth: Int, bottleneck: Int
        public let norm1: BatchNorm2D, conv1: Conv2D, norm2: BatchNorm2D, conv2: Conv2D

        init(name: String, inChannels: Int, growth: Int, bottleneckSize: Int, generator: inout SplitMix64) {
            self.inChannels = inChannels; self.growth = growth; bottleneck = bottleneckSize * growth
            norm1 = BatchNorm2D(name: name + "/norm1", channels: inChannels)
            conv1 = Conv2D(name: name + "/conv1", inChannels: inChannels, outChannels: bottleneck, kernel: 1,
                           generator: &generator)
            norm2 = BatchNorm2D(name: name + "/norm2", channels: bottleneck)
            conv2 = Conv2D(name: name + "/conv2", inChannels: bottleneck, outChannels: growth, kernel: 3, padding: 1,
                           generator: &generator)
        }

        var tensors: [Parameter] {
            norm1.parameters + norm1.state + conv1.parameters + norm2.parameters + norm2.state + conv2.parameters
        }

        /// `saved` receives conv1's output in training (norm2's and conv2's backward read it).
        func forward(_ a: DenseNetActivations, in block: BlockActivations, saved: FloatBuffer) {
            let (n, h, w, rows) = (block.batch, block.height, block.width, block.rows)
            let s1 = a.normed.reserve(rows * inChannels)
            block.normalize(norm1, into: s1, training: a.training)
            let y1 = (a.training ? saved : a.bottleneck).reserve(rows * bottleneck)
            conv1.forward(x: s1, ldx: inChannels, batch: n, height: h, width: w, y: y1, ldy: bottleneck, col: a.col)
            if a.training { norm2.prepareTraining(x: y1, ldx: bottleneck, rows: rows) }
            conv2.forward(x: y1, ldx: bottleneck, batch: n, height: h, width: w,
                          y: block.features.pointer + inChannels, ldy: block.channels, col: a.col,
                          inputAffine: norm2.affine(inference: !a.training))
            if a.training { block.computeStatistics(channels: inChannels..<inChannels + growth) }
        }

        /// Adds this layer's share to the gradient of the channels it read.
        func backward(_ a: DenseNetActivations, in block: BlockActivations, saved: FloatBuffer) {
            let (n, h, w, rows) = (block.batch, block.height, block.width, block.rows)
            let y1 = saved.pointer
            let ds2 = a.bottleneckGradient.reserve(rows * bottleneck)
            conv2.backward(x: y1, ldx: bottleneck, batch: n, height: h, width: w,
                           dy: block.gradient.pointer + inChannels, lddy: block.channels,
                           dx: ds2, lddx: bottleneck, col: a.col, inputAffine: norm2.affine(inference: false))
            // In place: norm2's dx overwrites its dy element by element.
            norm2.backward(x: y1, ldx: bottleneck, rows: rows, dy: ds2, lddy: bottleneck, dx: ds2, lddx: bottleneck,
                           accumulate: false, relu: true)
            let s1 = a.normed.reserve(rows * inChannels)
            block.renormalize(norm1, into: s1)
            let ds1 = a.normedGradient.reserve(rows * inChannels)
            conv1.backward(x: s1, ldx: inChannels, batch: n, height: h, width: w, dy: ds2, lddy: bottleneck,
                           dx: ds1, lddx: inChannels, col: a.col)
            block.normBackward(norm1, dy: ds1, accumulate: true)
        }
    }
}
