import Determinism
import Foundation

/// Fully connected layer: y = x·Wᵀ + b with W [out, in] (PyTorch's Linear layout); `bias: false`
/// leaves b out (a Linear followed by BatchNorm, as in fastai's head).
public final class Dense {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter, bias: Parameter?

    public init(name: String, inFeatures: Int, outFeatures: Int, bias hasBias: Bool = true, generator: inout SplitMix64) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        // PyTorch's Linear default: U(−1/√in, 1/√in) for weight and bias.
        let bound = Float(1 / Double(inFeatures).squareRoot())
        weight = Parameter(name: name + "/weight", shape: [outFeatures, inFeatures],
                           value: (0..<outFeatures * inFeatures).map { _ in bound * (2 * generator.nextUnitFloat() - 1) })
        bias = hasBias ? Parameter(name: name + "/bias", shape: [outFeatures],
                                   value: (0..<outFeatures).map { _ in bound * (2 * generator.nextUnitFloat() - 1) }, decays: false) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func forward(x: UnsafePointer<Float>, batch: Int, y: UnsafeMutablePointer<Float>) {
        Profiler.time(.dense) {
            weight.value.withUnsafeBufferPointer { w in
                BLAS.sgemm(.none, .transpose, m: batch, n: outFeatures, k: inFeatures,
                           a: x, b: w.baseAddress!, c: y)
            }
            if let bias { for n in 0..<batch { for o in 0..<outFeatures { y[n * outFeatures + o] += bias.value[o] } } }
        }
    }

    public func backward(x: UnsafePointer<Float>, batch: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?) {
        Profiler.time(.dense) {
            weight.grad.withUnsafeMutableBufferPointer { dw in
                BLAS.sgemm(.transpose, .none, m: outFeatures, n: inFeatures, k: batch,
                           a: dy, b: x, beta: 1, c: dw.baseAddress!)
            }
            if let bias { for n in 0..<batch { for o in 0..<outFeatures { bias.grad[o] += dy[n * outFeatures + o] } } }
            if let dx {
                weight.value.withUnsafeBufferPointer { w in
                    BLAS.sgemm(.none, .none, m: batch, n: inFeatures, k: outFeatures,
                               a: dy, b: w.baseAddress!, c: dx)
                }
            }
        }
    }
}
