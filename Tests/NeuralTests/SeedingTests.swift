import Determinism
import XCTest
@testable import Neural

/// Neural's seeds must keep giving the weights, masks and test data they always gave. The values
/// below were recorded from Neural's own generator (`SeededGenerator`) before it was replaced by
/// `SplitMix64(seed:skipping: 1)`.
final class SeedingTests: XCTestCase {
    func testSkippingOneReproducesTheFormerNeuralGenerator() {
        var g = SplitMix64(seed: 42, skipping: 1)
        XCTAssertEqual((0..<5).map { _ in g.next() },
                       [0x28ef_e333_b266_f103, 0x4752_6757_130f_9f52, 0x581c_e1ff_0e4a_e394,
                        0x09bc_585a_2448_23f2, 0xde44_31fa_3c80_db06])
        XCTAssertEqual((0..<5).map { _ in g.nextUnitFloat().bitPattern },
                       [0x3e5f_a59c, 0x3f4c_f635, 0x3eae_0b70, 0x3f1e_54d7, 0x3e51_d1c8])
        // An odd count: the last pair's second value is still pending when next() resumes.
        XCTAssertEqual((0..<7).map { _ in g.nextNormal().bitPattern },
                       [0xbf97_b269, 0xbdcc_c71c, 0xbf14_c633, 0xbf7c_23b7, 0x3fb5_bdde, 0x3f8a_622e, 0x3f7c_96ea])
        XCTAssertEqual((0..<3).map { _ in g.next() },
                       [0xb05e_ca1a_2972_b860, 0xf513_444b_6455_a3e8, 0x12b3_a6dd_261f_6e99])
    }

    func testSkippingIsTheSameStreamLater() {
        var plain = SplitMix64(seed: 7), skipped = SplitMix64(seed: 7, skipping: 2)
        _ = plain.next(); _ = plain.next()
        XCTAssertEqual((0..<4).map { _ in plain.next() }, (0..<4).map { _ in skipped.next() })
    }

    /// Every tensor of densenet-tiny (seed 3), in state_dict order, hashed bit by bit (FNV-1a):
    /// pins the generator and the order in which layers draw from it.
    func testDenseNetTinyInitialWeightsAreUnchanged() throws {
        let model = try DenseNet(config: DenseNetConfig.presets["densenet-tiny"]!, seed: 3)
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for p in model.allTensors { for v in p.value { h = (h ^ UInt64(v.bitPattern)) &* 0x100_0000_01B3 } }
        XCTAssertEqual(h, 0x5a79_035c_b3fe_c5f1)
    }
}
