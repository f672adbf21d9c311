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
