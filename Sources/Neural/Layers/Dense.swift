import Foundation

/// Fully connected layer: y = x·Wᵀ + b with W [out, in] (PyTorch's Linear layout).
public final class Dense {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter, bias: Parameter

    public init(name: String, inFeatures: Int, outFeatures: Int, generator: inout SeededGenerator) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        // PyTorch's Linear default: U(−1/√in, 1/√in) for weight and bias.
        let bound = Float(1 / Double(inFeatures).squareRoot())
        weight = Parameter(name: name + "/weight", shape: [outFeatures, inFeatures],
                           value: (0..<outFeatures * inFeatures).map { _ in bound * (2 * generator.nextUniform() - 1) })
        bias = Parameter(name: name + "/bias", shape: [outFeatures],
                         value: (0..<outFeatures).map { _ in bound * (2 * generator.nextUniform() - 1) }, decays: false)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func forward(x: UnsafePointer<Float>, batch: Int, y: UnsafeMutablePointer<Float>) {
        Profiler.time(.dense) {
            weight.value.withUnsafeBufferPointer { w in
                BLAS.sgemm(.none, .transpose, m: batch, n: outFeatures, k: inFeatures,
                           a: x, b: w.baseAddress!, c: y)
            }
            for n in 0..<batch { for o in 0..<outFeatures { y[n * outFeatures + o] += bias.value[o] } }
        }
    }

    public func backward(x: UnsafePointer<Float>, batch: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?) {
        Profiler.time(.dense) {
            weight.grad.withUnsafeMutableBufferPointer { dw in
                BLAS.sgemm(.transpose, .none, m: outFeatures, n: inFeatures, k: batch,
                           a: dy, b: x, beta: 1, c: dw.baseAddress!)
            }
            for n in 0..<batch { for o in 0..<outFeatures { bias.grad[o] += dy[n * outFeatures + o] } }
            if let dx {
                weight.value.withUnsafeBufferPointer { w in
                    BLAS.sgemm(.none, .none, m: batch, n: inFeatures, k: outFeatures,
                               a: dy, b: w.baseAddress!, c: dx)
                }
            }
        }
    }
}

/// Elementwise rectifier.
public enum ReLU {
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = x[i] < 0 ? 0 : x[i] }   // NaN propagates
    }

    /// dx = dy where the forward input was positive.
    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
    }
}

/// Inverted dropout: in training, zero each value with probability `rate` and scale the rest by
/// 1/(1−rate); identity at inference. The mask comes from `seed`, which advances every call.
public final class Dropout {
    public let rate: Float
    public var seed: UInt64
    public private(set) var mask: [Float] = []

    public init(rate: Float, seed: UInt64 = 0) {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1)")
        self.rate = rate; self.seed = seed
    }

    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        guard training && rate > 0 else { y.update(from: x, count: count); return }
        var generator = SeededGenerator(seed: seed)
        seed &+= 1
        if mask.count < count { mask = [Float](repeating: 0, count: count) }
        let keep = 1 / (1 - rate)
        for i in 0..<count {
            mask[i] = generator.nextUniform() < rate ? 0 : keep
            y[i] = x[i] * mask[i]
        }
    }

    public func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        guard training && rate > 0 else { dx.update(from: dy, count: count); return }
        for i in 0..<count { dx[i] = dy[i] * mask[i] }
    }
}

/// Channel concatenation of channels-last tensors (the dense block does it in place; this is
/// the general form).
public enum Concat {
    /// Inputs [rows, c_i] → output [rows, Σc_i].
    public static func forward(_ inputs: [Tensor]) -> Tensor {
        let rows = inputs[0].count / inputs[0].shape.last!
        let total = inputs.reduce(0) { $0 + $1.shape.last! }
        var out = [Float](repeating: 0, count: rows * total)
        var offset = 0
        for t in inputs {
            let c = t.shape.last!
            precondition(t.count / c == rows, "concat: inputs differ in spatial size")
            for r in 0..<rows { for j in 0..<c { out[r * total + offset + j] = t.scalars[r * c + j] } }
            offset += c
        }
        return Tensor(shape: Array(inputs[0].shape.dropLast()) + [total], scalars: out)
    }

    /// Splits the output gradient back into per-input gradients.
    public static func backward(_ dy: Tensor, channels: [Int]) -> [Tensor] {
        let total = dy.shape.last!, rows = dy.count / total
        var offset = 0
        return channels.map { c in
            var g = [Float](repeating: 0, count: rows * c)
            for r in 0..<rows { for j in 0..<c { g[r * c + j] = dy.scalars[r * total + offset + j] } }
            offset += c
            return Tensor(shape: Array(dy.shape.dropLast()) + [c], scalars: g)
        }
    }
}
