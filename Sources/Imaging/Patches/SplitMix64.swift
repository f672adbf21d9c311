/// Counter-based randomness for everything that must be reproducible: the same (seed, counters)
/// always give the same numbers, on any machine, in any process, under any rank count.
/// Never use the system generator or Swift's `Hasher` (randomly seeded per process) for data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator keyed by a seed and any number of counters (epoch, sample index, …).
    /// Counters are mixed one at a time, so (epoch 1, index 2) and (epoch 2, index 1) differ.
    public init(seed: UInt64, _ counters: UInt64...) {
        var h = SplitMix64.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        for c in counters { h = SplitMix64.mix(h ^ SplitMix64.mix(c &+ 0xD1B5_4A32_D192_ED03)) }
        state = h
    }

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

    /// Uniform integer in 0..<bound (bound > 0), unbiased.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next(upperBound: UInt64(bound)))
    }
}

/// A stable 64-bit hash of text (FNV-1a over UTF-8, then mixed): the same on every run and machine.
public enum StableHash {
    public static func of(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return SplitMix64.mix(h)
    }
}
