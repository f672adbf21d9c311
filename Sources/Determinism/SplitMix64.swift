import Foundation

/// Counter-based randomness for everything that must be reproducible: the same (seed, counters)
/// always give the same numbers, on any machine, in any process, under any rank count.
/// Never use the system generator or Swift's `Hasher` (randomly seeded per process) for data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    /// The second value of the last Box–Muller pair, returned by the next `nextNormal`.
    private var spareNormal: Float?

    public init(seed: UInt64) { state = seed }

    /// A generator keyed by a seed and any number of counters (epoch, sample index, …).
    /// Counters are mixed one at a time, so (epoch 1, index 2) and (epoch 2, index 1) differ.
    public init(seed: UInt64, _ counters: UInt64...) {
        var h = SplitMix64.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        for c in counters { h = SplitMix64.mix(h ^ SplitMix64.mix(c &+ 0xD1B5_4A32_D192_ED03)) }
        state = h
    }

    /// The stream of `SplitMix64(seed:)` without its first `count` values. Neural seeds weights
    /// and dropout masks with `skipping: 1`, which keeps every seed's weights what they always were.
    public init(seed: UInt64, skipping count: UInt64) { state = seed &+ count &* 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser (a bijective 64-bit mixer).
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [0, 1) with 24 random bits (a Float's precision).
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Uniform integer in 0..<bound (bound > 0), unbiased.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next(upperBound: UInt64(bound)))
    }

    /// Standard normal as a Float (Box–Muller; both values of a pair are used).
    public mutating func nextNormal() -> Float {
        if let spare = spareNormal { spareNormal = nil; return spare }
        let u1 = max(Double(next() >> 11) * 0x1.0p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1.0p-53
        let r = (-2 * Foundation.log(u1)).squareRoot()
        spareNormal = Float(r * Foundation.sin(2 * Double.pi * u2))
        return Float(r * Foundation.cos(2 * Double.pi * u2))
    }
}
