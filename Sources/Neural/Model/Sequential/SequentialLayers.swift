import Determinism

/// One layer of a `SequentialNet`: forward next to backward, on channels-last [batch, h, w, c]
/// buffers (flat features are [batch, c]).
protocol SequentialLayer: AnyObject {
    /// Learnable tensors and buffers, in state_dict order.
    var tensors: [Parameter] { get }
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input: FeatureShape, training: Bool)
    /// Accumulates parameter gradients; writes dLoss/dx when `dx` is given. `y` is this layer's forward output.
    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input: FeatureShape, scratch: FloatBuffer)
    func flops(input: FeatureShape, output: FeatureShape) -> Double
}

extension SequentialLayer {
    var tensors: [Parameter] { [] }
    func flops(input: FeatureShape, output: FeatureShape) -> Double { 0 }
}

final class ConvLayer: SequentialLayer {
    let conv: Conv2D
    init(_ conv: Conv2D) { self.conv = conv }
    var tensors: [Parameter] { conv.parameters }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        conv.forward(x: x, ldx: s.channels, batch: batch, height: s.height, width: s.width, y: y, ldy: conv.outChannels,
                     col: col)
    }
    private let col = FloatBuffer()

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        conv.backward(x: x, ldx: s.channels, batch: batch, height: s.height, width: s.width, dy: dy, lddy: conv.outChannels,
                      dx: dx, lddx: s.channels, col: scratch)
    }

    func flops(input: FeatureShape, output: FeatureShape) -> Double {
        2 * Double(output.height * output.width * conv.outChannels * conv.patchLength)
    }
}

/// BatchNorm over the channels of a map (BatchNorm2d) or over features (BatchNorm1d): both are
/// per-channel statistics over every other axis, which channels-last rows make the same code.
final class BatchNormLayer: SequentialLayer {
    let norm: BatchNorm2D
    /// Backward of an inference-mode forward: the fixed affine y = x·scale + shift (dx = dy·scale).
    var inference = false
    init(_ norm: BatchNorm2D) { self.norm = norm }
    var tensors: [Parameter] { norm.parameters + norm.state }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        let rows = batch * s.height * s.width
        if training {
            norm.forwardTraining(x: x, ldx: s.channels, rows: rows, y: y, ldy: s.channels, relu: false)
        } else {
            norm.forwardInference(x: x, ldx: s.channels, rows: rows, y: y, ldy: s.channels, relu: false)
        }
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        let rows = batch * s.height * s.width
        if inference {
            guard let dx else { return }
            let scale = norm.affine(inference: true).scale
            for r in 0..<rows { for c in 0..<s.channels { dx[r * s.channels + c] = dy[r * s.channels + c] * scale[c] } }
            return
        }
        // The γ, β gradients need the pass even when no dx is wanted (a first-layer BatchNorm).
        let target = dx ?? scratch.reserve(rows * s.channels)
        norm.backward(x: x, ldx: s.channels, rows: rows, dy: dy, lddy: s.channels, dx: target, lddx: s.channels,
                      accumulate: false, relu: false)
    }
}

final class ReLULayer: SequentialLayer {
    /// Guided backprop: only positive gradients pass (where the input was positive).
    var guided = false

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        ReLU.forward(x, y, count: batch * s.count)
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        guard let dx else { return }
        if guided {
            for i in 0..<batch * s.count { dx[i] = x[i] > 0 && dy[i] > 0 ? dy[i] : 0 }
        } else {
            ReLU.backward(x: x, dy: dy, dx: dx, count: batch * s.count)
        }
    }
}

/// `softmax` as the last layer: the engine hands out logits; the loss (and `infer`) apply softmax.
final class IdentityLayer: SequentialLayer {
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        y.update(from: x, count: batch * s.count)
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        dx?.update(from: dy, count: batch * s.count)
    }
}

/// The pooling layers `PoolLayer` wraps (max and average share the call shape).
protocol WindowPooling: PoolingWindow {
    func forward(x: UnsafePointer<Float>, ldx: Int, batch: Int, height: Int, width: Int, channels: Int,
                 y: UnsafeMutablePointer<Float>, ldy: Int)
    func backward(dy: UnsafePointer<Float>, lddy: Int, batch: Int, height: Int, width: Int, channels: Int,
                  dx: UnsafeMutablePointer<Float>, lddx: Int, accumulate: Bool)
}
extension MaxPool2D: WindowPooling {}
extension AvgPool2D: WindowPooling {}

final class PoolLayer<Pool: WindowPooling>: SequentialLayer {
    let pool: Pool
    init(_ pool: Pool) { self.pool = pool }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        pool.forward(x: x, ldx: s.channels, batch: batch, height: s.height, width: s.width, channels: s.channels, y: y, ldy: s.channels)
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        guard let dx else { return }
        pool.backward(dy: dy, lddy: s.channels, batch: batch, height: s.height, width: s.width, channels: s.channels,
                      dx: dx, lddx: s.channels, accumulate: false)
    }
}

/// Inverted dropout (PyTorch's): zero with probability `rate`, scale the rest by 1/(1−rate) in
/// training; identity at inference. Each sample's mask is keyed by (seed, layer, step, its position
/// in the global batch), so a run's masks do not depend on the rank count or on a resume.
final class DropoutLayer: SequentialLayer {
    let rate: Float, seed: UInt64, index: Int
    var step: UInt64 = 0, firstSample = 0, sampleStride = 1
    /// Off: identity even in training (the parity test compares with PyTorch, whose masks differ).
    var enabled = true
    private var mask: [Float] = []

    init(rate: Float, seed: UInt64, index: Int) { self.rate = rate; self.seed = seed; self.index = index }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        let count = batch * s.count
        guard training && enabled && rate > 0 else { y.update(from: x, count: count); mask = []; return }
        if mask.count != count { mask = [Float](repeating: 0, count: count) }
        let keep = 1 / (1 - rate)
        for b in 0..<batch {
            var generator = SplitMix64(seed: seed, UInt64(index), step, UInt64(firstSample + b * sampleStride))
            for j in b * s.count ..< (b + 1) * s.count {
                mask[j] = generator.nextUnitFloat() < rate ? 0 : keep
                y[j] = x[j] * mask[j]
            }
        }
        step &+= 1   // without a trainer setting the stream, consecutive steps still differ
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        guard let dx else { return }
        let count = batch * s.count
        if mask.isEmpty { dx.update(from: dy, count: count); return }
        for i in 0..<count { dx[i] = dy[i] * mask[i] }
    }
}

/// Flattens [h, w, c] maps channel-major, as `torch.flatten` of an NCHW tensor does, so a dense
/// layer's weights mean the same here and in PyTorch.
final class FlattenLayer: SequentialLayer {
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        let (hw, c) = (s.height * s.width, s.channels)
        for b in 0..<batch {
            let xi = x + b * hw * c, yi = y + b * hw * c
            for p in 0..<hw { for ch in 0..<c { yi[ch * hw + p] = xi[p * c + ch] } }
        }
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        guard let dx else { return }
        let (hw, c) = (s.height * s.width, s.channels)
        for b in 0..<batch {
            let gi = dy + b * hw * c, di = dx + b * hw * c
            for p in 0..<hw { for ch in 0..<c { di[p * c + ch] = gi[ch * hw + p] } }
        }
    }
}

/// Mean (or sum) of every channel over the map: [h·w, c] → [c] per image. The sum makes a network's
/// output a sum of local evidence whatever the map's size (the PL counter's pooled stage 2): features
/// then grow with the number of objects, as the counts do, instead of being divided by the area.
final class GlobalPoolLayer: SequentialLayer {
    let sum: Bool
    init(sum: Bool) { self.sum = sum }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        let (hw, c) = (s.height * s.width, s.channels)
        for b in 0..<batch {
            let xi = x + b * hw * c, yi = y + b * c
            var sums = [Double](repeating: 0, count: c)
            for p in 0..<hw { for ch in 0..<c { sums[ch] += Double(xi[p * c + ch]) } }
            for ch in 0..<c { yi[ch] = Float(sum ? sums[ch] : sums[ch] / Double(hw)) }
        }
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        guard let dx else { return }
        let (hw, c) = (s.height * s.width, s.channels)
        let scale: Float = sum ? 1 : 1 / Float(hw)
        for b in 0..<batch {
            let gi = dy + b * c, di = dx + b * hw * c
            for p in 0..<hw { for ch in 0..<c { di[p * c + ch] = gi[ch] * scale } }
        }
    }

    func flops(input: FeatureShape, output: FeatureShape) -> Double { Double(input.count) }
}

final class DenseLayer: SequentialLayer {
    let dense: Dense
    init(_ dense: Dense) { self.dense = dense }
    var tensors: [Parameter] { dense.parameters }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, input s: FeatureShape, training: Bool) {
        dense.forward(x: x, batch: batch, y: y)
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, input s: FeatureShape, scratch: FloatBuffer) {
        dense.backward(x: x, batch: batch, dy: dy, dx: dx)
    }

    func flops(input: FeatureShape, output: FeatureShape) -> Double {
        2 * Double(dense.inFeatures * dense.outFeatures)
    }
}
