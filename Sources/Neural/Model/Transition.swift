import Determinism

extension DenseNet {
    /// norm → ReLU → conv 1×1 (×compression) → 2×2/2 average pool, into the next block's first channels.
    public final class Transition {
        public let norm: BatchNorm2D, conv: Conv2D, pool: AvgPool2D

        init(name: String, inChannels: Int, outChannels: Int, generator: inout SplitMix64) {
            norm = BatchNorm2D(name: name + "/norm", channels: inChannels)
            conv = Conv2D(name: name + "/conv", inChannels: inChannels, outChannels: outChannels, kernel: 1,
                          generator: &generator)
            pool = AvgPool2D(kernel: 2, stride: 2)
        }

        var tensors: [Parameter] { norm.parameters + norm.state + conv.parameters }

        func forward(_ a: DenseNetActivations, from block: BlockActivations, into next: BlockActivations) {
            let (n, h, w, c) = (block.batch, block.height, block.width, conv.outChannels)
            let s = a.normed.reserve(block.rows * block.channels)
            block.normalize(norm, into: s, training: a.training)
            let y = a.transitionOutput.reserve(block.rows * c)
            conv.forward(x: s, ldx: block.channels, batch: n, height: h, width: w, y: y, ldy: c, col: a.col)
            let (ph, pw) = pool.outputSize(height: h, width: w)
            pool.forward(x: y, ldx: c, batch: n, height: h, width: w, channels: c,
                         y: next.begin(batch: n, height: ph, width: pw), ldy: next.channels)
            if a.training { next.computeStatistics(channels: 0..<c) }
        }

        func backward(_ a: DenseNetActivations, from next: BlockActivations, into block: BlockActivations) {
            let (n, h, w, c) = (block.batch, block.height, block.width, conv.outChannels)
            let dy = a.transitionOutput.reserve(block.rows * c)
            pool.backward(dy: next.gradient.pointer, lddy: next.channels, batch: n, height: h, width: w,
                          channels: c, dx: dy, lddx: c)
            let s = a.normed.reserve(block.rows * block.channels)
            block.renormalize(norm, into: s)
            let ds = a.normedGradient.reserve(block.rows * block.channels)
            conv.backward(x: s, ldx: block.channels, batch: n, height: h, width: w, dy: dy, lddy: c,
                          dx: ds, lddx: block.channels, col: a.col)
            block.normBackward(norm, dy: ds, accumulate: false)
        }
    }
}
