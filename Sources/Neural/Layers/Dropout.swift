import Determinism

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
        var generator = SplitMix64(seed: seed, skipping: 1)
        seed &+= 1
        if mask.count < count { mask = [Float](repeating: 0, count: count) }
        let keep = 1 / (1 - rate)
        for i in 0..<count {
            mask[i] = generator.nextUnitFloat() < rate ? 0 : keep
            y[i] = x[i] * mask[i]
        }
    }

    public func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        guard training && rate > 0 else { dx.update(from: dy, count: count); return }
        for i in 0..<count { dx[i] = dy[i] * mask[i] }
    }
}
