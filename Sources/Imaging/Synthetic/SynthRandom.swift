import Determinism
import Foundation

/// The synthetic generator's random source: SplitMix64 keyed by (seed, plate, well, stream), so every
/// well's pixels and objects depend only on the seed and the well, never on rank count or order.
public struct SynthRandom {
    var base: SplitMix64
    private var spare: Double? = nil

    public init(seed: UInt64, _ counters: UInt64...) {
        var h = SplitMix64(seed: seed)
        for c in counters { h = SplitMix64(seed: SplitMix64.mix(h.next() ^ SplitMix64.mix(c &+ 0x632B_E59B_D9B4_E019))) }
        base = h
    }

    @inline(__always) public mutating func next() -> UInt64 { base.next() }

    /// Uniform in [0, 1).
    @inline(__always) public mutating func unit() -> Double { Double(base.next() >> 11) * 0x1.0p-53 }

    @inline(__always) public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }

    /// Uniform integer in 0..<n.
    @inline(__always) public mutating func int(_ n: Int) -> Int { Int((base.next() >> 11) % UInt64(n)) }

    /// Standard normal (Box–Muller, both values used).
    @inline(__always) public mutating func normal() -> Double {
        if let s = spare { spare = nil; return s }
        var u = unit()
        while u <= 0x1.0p-60 { u = unit() }
        let v = unit()
        let r = (-2 * log(u)).squareRoot()
        spare = r * sin(2 * .pi * v)
        return r * cos(2 * .pi * v)
    }

    /// Log-normal with the given median and log-SD.
    public mutating func logNormal(median: Double, sigma: Double) -> Double { median * exp(sigma * normal()) }

    /// Poisson: multiplication method below 30, normal approximation (rounded, ≥ 0) above.
    @inline(__always) public mutating func poisson(_ lambda: Double) -> Double {
        if lambda <= 0 { return 0 }
        if lambda >= 30 { return max(0, (lambda + lambda.squareRoot() * normal()).rounded()) }
        let limit = exp(-lambda)
        var k = 0.0, p = unit()
        while p > limit { k += 1; p *= unit() }
        return k
    }

    /// Binomial(n, p) by summing Bernoulli draws (n is at most a few thousand per well).
    public mutating func binomial(_ n: Int, _ p: Double) -> Int {
        var k = 0
        for _ in 0..<n where unit() < p { k += 1 }
        return k
    }

    /// Index drawn with the given weights.
    public mutating func pick(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var u = unit() * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.count - 1
    }
}
