import Determinism
import XCTest

/// Augmentation, shuffles, splits and synthetic plates depend on these exact streams; the values
/// were recorded before SplitMix64 moved from Imaging to Determinism.
final class SplitMix64Tests: XCTestCase {
    func testStreamsAreUnchanged() {
        var plain = SplitMix64(seed: 99)
        XCTAssertEqual((0..<4).map { _ in plain.next() },
                       [0x42f3_a936_4c47_6be3, 0x081a_b918_879d_69a4, 0xd5b2_d034_f041_d2fb, 0x1a31_9a9c_b967_2cd7])
        var keyed = SplitMix64(seed: 7, 1, 2, 3)
        XCTAssertEqual((0..<3).map { _ in keyed.next() },
                       [0xbdc7_de06_eb0f_750e, 0x7923_0d7a_ff94_cd55, 0xcde9_9157_cc58_b7d4])
        XCTAssertEqual(keyed.nextUnit().bitPattern, 4_605_244_590_856_451_804)
        XCTAssertEqual(keyed.nextInt(below: 1000), 88)
        XCTAssertEqual(StableHash.of("plate-A/well-B3"), 1_947_668_034_138_490_510)
    }
}
