import Determinism

extension ResNet {
    /// fastai's `create_head` (the celldeath method's classifier on a ResNet body):
    /// [max-pool ‖ avg-pool] (AdaptiveConcatPool2d, max first) → BatchNorm1d(2C) → Dropout(p/2) →
    /// Linear(2C, hidden, no bias) → ReLU → BatchNorm1d(hidden) → Dropout(p) → Linear(hidden, K, no
    /// bias). Tensor names are fastai's head indices: head/2 (BN), head/4 (Linear), head/6, head/8.
    public final class FastaiHead {
        public let features: Int, hidden: Int, classes: Int
        public let norm1: BatchNorm2D, linear1: Dense, norm2: BatchNorm2D, linear2: Dense
        let dropout1: DropoutLayer, dropout2: DropoutLayer
        // The last forward: pooled features, normalised, dropped, the hidden layer before and after
        // ReLU, normalised, dropped; backward's two gradient buffers.
        private let pooled = FloatBuffer(), normed1 = FloatBuffer(), dropped1 = FloatBuffer()
        private let hiddenPre = FloatBuffer(), hiddenPost = FloatBuffer(), normed2 = FloatBuffer(), dropped2 = FloatBuffer()
        private let gradientA = FloatBuffer(), gradientB = FloatBuffer()
        private var argmax: [Int32] = []
        private var shape = (batch: 0, pixels: 0)
        /// Guided backprop: the ReLU passes only positive gradients (saliency maps).
        var guided = false

        init(features: Int, hidden: Int, classes: Int, dropout: Double, seed: UInt64, generator: inout SplitMix64) {
            self.features = features; self.hidden = hidden; self.classes = classes
            norm1 = BatchNorm2D(name: "head/2", channels: 2 * features)
            linear1 = Dense(name: "head/4", inFeatures: 2 * features, outFeatures: hidden, bias: false, generator: &generator)
            norm2 = BatchNorm2D(name: "head/6", channels: hidden)
            linear2 = Dense(name: "head/8", inFeatures: hidden, outFeatures: classes, bias: false, generator: &generator)
            dropout1 = DropoutLayer(rate: Float(dropout / 2), seed: seed, index: 1_000)
            dropout2 = DropoutLayer(rate: Float(dropout), seed: seed, index: 1_001)
        }

        var tensors: [Parameter] {
            norm1.parameters + norm1.state + linear1.parameters + norm2.parameters + norm2.state + linear2.parameters
        }
        var batchNorms: [BatchNorm2D] { [norm1, norm2] }
        var dropouts: [DropoutLayer] { [dropout1, dropout2] }
        private func flat(_ n: Int) -> FeatureShape { FeatureShape(height: 1, width: 1, channels: n, isFlat: true) }

        /// x [n·pixels, C] (the last block's output) → logits [n, K].
        func forward(_ x: UnsafePointer<Float>, batch n: Int, pixels: Int, training: Bool, logits: UnsafeMutablePointer<Float>) {
            shape = (n, pixels)
            let c = features, two = 2 * c
            let p = pooled.reserve(n * two)
            if argmax.count < n * c { argmax = [Int32](repeating: 0, count: n * c) }
            Profiler.time(.pooling) {
                for b in 0..<n {
                    let image = x + b * pixels * c, row = p + b * two
                    for j in 0..<c {
                        var best = image[j], at = 0, sum: Float = 0
                        for q in 0..<pixels {
                            let v = image[q * c + j]
                            sum += v
                            if v > best { best = v; at = q }
                        }
                        row[j] = best; row[c + j] = sum / Float(pixels)
                        argmax[b * c + j] = Int32(at)
                    }
                }
            }
            let a1 = normed1.reserve(n * two), d1 = dropped1.reserve(n * two)
            norm1.forward(x: p, ldx: two, rows: n, y: a1, ldy: two, relu: false, training: training)
            dropout1.forward(a1, d1, batch: n, input: flat(two), training: training)
            let h = hiddenPre.reserve(n * hidden), r = hiddenPost.reserve(n * hidden)
            linear1.forward(x: d1, batch: n, y: h)
            ReLU.forward(h, r, count: n * hidden)
            let a2 = normed2.reserve(n * hidden), d2 = dropped2.reserve(n * hidden)
            norm2.forward(x: r, ldx: hidden, rows: n, y: a2, ldy: hidden, relu: false, training: training)
            dropout2.forward(a2, d2, batch: n, input: flat(hidden), training: training)
            linear2.forward(x: d2, batch: n, y: logits)
        }

        /// dLoss/dlogits → dLoss/dx [n·pixels, C] (overwritten), accumulating the head's gradients.
        func backward(logitsGradient: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
            let (n, pixels) = shape
            let c = features, two = 2 * c
            let g2 = gradientA.reserve(n * max(two, hidden)), g1 = gradientB.reserve(n * max(two, hidden))
            linear2.backward(x: dropped2.pointer, batch: n, dy: logitsGradient, dx: g2)
            dropout2.backward(x: normed2.pointer, y: dropped2.pointer, dy: g2, dx: g1, batch: n, input: flat(hidden), scratch: gradientA)
            norm2.backward(x: hiddenPost.pointer, ldx: hidden, rows: n, dy: g1, lddy: hidden, dx: g2, lddx: hidden,
                           accumulate: false, relu: false)
            let h = hiddenPre.pointer
            for i in 0..<n * hidden where h[i] <= 0 || (guided && g2[i] < 0) { g2[i] = 0 }
            linear1.backward(x: dropped1.pointer, batch: n, dy: g2, dx: g1)
            dropout1.backward(x: normed1.pointer, y: dropped1.pointer, dy: g1, dx: g2, batch: n, input: flat(two), scratch: gradientB)
            norm1.backward(x: pooled.pointer, ldx: two, rows: n, dy: g2, lddy: two, dx: g1, lddx: two, accumulate: false, relu: false)
            Profiler.time(.pooling) {
                for b in 0..<n {
                    let row = g1 + b * two, image = dx + b * pixels * c
                    for q in 0..<pixels { for j in 0..<c { image[q * c + j] = row[c + j] / Float(pixels) } }
                    for j in 0..<c { image[Int(argmax[b * c + j]) * c + j] += row[j] }
                }
            }
        }
    }
}
