import XCTest
@testable import Imaging

final class PatchAugmentTests: XCTestCase {
    func apply(_ params: AugmentParams, _ src: [Float], size: Int) -> [Float] {
        var dst = [Float](repeating: .nan, count: size * size)
        src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
            PatchTransform.augment(params, size: size, src: s, dst: d)
        } }
        return dst
    }

    func testDrawIsDeterministicAndKeyedBySeedEpochAndIndex() {
        let a = AugmentParams.draw(seed: 42, epoch: 3, index: 17)
        XCTAssertEqual(a, AugmentParams.draw(seed: 42, epoch: 3, index: 17))
        XCTAssertNotEqual(a, AugmentParams.draw(seed: 43, epoch: 3, index: 17))
        XCTAssertNotEqual(a, AugmentParams.draw(seed: 42, epoch: 4, index: 17))
        XCTAssertNotEqual(a, AugmentParams.draw(seed: 42, epoch: 3, index: 18))
        // (epoch 1, index 2) and (epoch 2, index 1) must not collide (plain XOR would).
        XCTAssertNotEqual(AugmentParams.draw(seed: 0, epoch: 1, index: 2), AugmentParams.draw(seed: 0, epoch: 2, index: 1))
        // Range and balance over many samples.
        let draws = (0..<4000).map { AugmentParams.draw(seed: 9, epoch: 0, index: $0) }
        XCTAssertTrue(draws.allSatisfy { abs($0.degrees) <= 10 })
        XCTAssertGreaterThan(draws.map(\.degrees).max()!, 9.5)
        XCTAssertLessThan(draws.map(\.degrees).min()!, -9.5)
        let h = draws.filter(\.flipHorizontal).count, v = draws.filter(\.flipVertical).count
        XCTAssertTrue((1800...2200).contains(h) && (1800...2200).contains(v), "flips h=\(h) v=\(v) of 4000")
    }

    func testFlipsAreExactMirrors() {
        let size = 6
        let src = (0..<(size * size)).map { Float($0) }
        let h = apply(AugmentParams(flipHorizontal: true), src, size: size)
        let v = apply(AugmentParams(flipVertical: true), src, size: size)
        let both = apply(AugmentParams(flipHorizontal: true, flipVertical: true), src, size: size)
        for y in 0..<size { for x in 0..<size {
            XCTAssertEqual(h[y * size + x], src[y * size + (size - 1 - x)])
            XCTAssertEqual(v[y * size + x], src[(size - 1 - y) * size + x])
            XCTAssertEqual(both[y * size + x], src[(size - 1 - y) * size + (size - 1 - x)])
        } }
        XCTAssertEqual(apply(.identity, src, size: size), src)
    }

    func testRotationTurnsAPointCounterClockwiseOnScreen() {
        // Bright pixel 6 px right of the centre of a 21×21 patch; 90° on screen (y down) moves it
        // to 6 px above the centre.
        let size = 21, c = 10
        var src = [Float](repeating: 0, count: size * size)
        src[c * size + c + 6] = 1000
        let out = apply(AugmentParams(degrees: 90), src, size: size)
        let peak = out.indices.max { out[$0] < out[$1] }!
        XCTAssertEqual(peak % size, c)
        XCTAssertEqual(peak / size, c - 6)
        XCTAssertEqual(out[peak], 1000, accuracy: 1e-3)
    }

    func testBilinearRotationOfARampIsExactInTheInterior() {
        // f(x, y) = 3x + 2y + 5 is linear, so bilinear sampling reproduces it exactly where the
        // sample lies inside the patch: out(x, y) = f(u, v) with (u, v) the inverse-rotated point.
        let size = 32, theta = 7.5 * Double.pi / 180, center = Double(size - 1) / 2
        let src = (0..<(size * size)).map { Float(3 * ($0 % size) + 2 * ($0 / size) + 5) }
        let out = apply(AugmentParams(degrees: 7.5), src, size: size)
        var checked = 0
        for y in 0..<size { for x in 0..<size {
            let dx = Double(x) - center, dy = Double(y) - center
            let u = cos(theta) * dx - sin(theta) * dy + center, v = sin(theta) * dx + cos(theta) * dy + center
            guard u >= 0, v >= 0, u <= Double(size - 1), v <= Double(size - 1) else { continue }
            XCTAssertEqual(Double(out[y * size + x]), 3 * u + 2 * v + 5, accuracy: 1e-3, "(\(x), \(y))")
            checked += 1
        } }
        XCTAssertGreaterThan(checked, size * size * 3 / 4)
        // Samples beyond the edge are mirrored: every output stays within the input's range.
        XCTAssertTrue(out.allSatisfy { $0 >= 5 - 1e-3 && $0 <= Float(3 * 31 + 2 * 31 + 5) + 1e-3 })
    }

    func testZScoreGivesZeroMeanUnitVarianceAndFlatPatchesBecomeZero() {
        var values: [Float] = (0..<100).map { Float($0 * $0 % 37) + 1000 }
        values.withUnsafeMutableBufferPointer { PatchTransform.zScore($0) }
        let mean = values.reduce(0, +) / 100
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 100
        XCTAssertEqual(mean, 0, accuracy: 1e-5)
        XCTAssertEqual(variance, 1, accuracy: 1e-4)
        var flat = [Float](repeating: 77, count: 50)
        flat.withUnsafeMutableBufferPointer { PatchTransform.zScore($0) }
        XCTAssertEqual(flat, [Float](repeating: 0, count: 50))
    }
}
