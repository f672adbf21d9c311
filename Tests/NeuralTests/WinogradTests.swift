import Determinism
import XCTest
@testable import Neural

/// Winograd F(4×4, 3×3) against the im2col GEMM path: same convolution to 1e-4 relative
/// (largest difference over the largest output), over tile remainders, channel tails,
/// strided buffers, image chunks and the fused BatchNorm+ReLU input affine.
final class WinogradTests: XCTestCase {
    func compare(cin: Int, cout: Int, height: Int, width: Int, batch: Int, bias: Bool = false,
                 extraInputStride: Int = 0, extraOutputStride: Int = 0, affine: Bool = false,
                 tilesPerGEMM: Int = 256, file: StaticString = #filePath, line: UInt = #line) {
        let (savedEnabled, savedTiles) = (Conv2D.winogradEnabled, Conv2D.winogradTiles)
        defer { Conv2D.winogradEnabled = savedEnabled; Conv2D.winogradTiles = savedTiles }
        Conv2D.winogradTiles = tilesPerGEMM
        var g = SplitMix64(seed: 5, skipping: 0)
        let conv = Conv2D(name: "c", inChannels: cin, outChannels: cout, kernel: 3, padding: 1, bias: bias, generator: &g)
        let ldx = cin + extraInputStride, ldy = cout + extraOutputStride
        let x = randomArray(batch * height * width * ldx, seed: 3)
        let scale = randomArray(cin, seed: 4), shift = randomArray(cin, seed: 6)
        func run(winograd: Bool) -> [Float] {
            Conv2D.winogradEnabled = winograd
            XCTAssertEqual(conv.usesWinograd, winograd, file: file, line: line)
            var y = [Float](repeating: 7, count: batch * height * width * ldy)
            scale.withUnsafeBufferPointer { s in
                shift.withUnsafeBufferPointer { b in
                    let inputAffine = affine ? InputAffine(scale: s.baseAddress!, shift: b.baseAddress!) : nil
                    conv.forward(x: x, ldx: ldx, batch: batch, height: height, width: width, y: &y, ldy: ldy,
                                 col: FloatBuffer(), inputAffine: inputAffine)
                }
            }
            return y
        }
        let reference = run(winograd: false), fast = run(winograd: true)
        var largest: Float = 0, worst: Float = 0
        for p in 0..<batch * height * width {
            for c in 0..<ldy {
                let i = p * ldy + c
                if c >= cout {
                    XCTAssertEqual(fast[i], 7, "column \(c) beyond the output channels was written", file: file, line: line)
                    continue
                }
                largest = max(largest, abs(reference[i]))
                worst = max(worst, abs(reference[i] - fast[i]))
            }
        }
        XCTAssertGreaterThan(largest, 0.1, file: file, line: line)
        XCTAssertLessThanOrEqual(worst / largest, 1e-4, "Winograd vs im2col, \(cin)→\(cout) \(height)×\(width)",
                                 file: file, line: line)
    }

    func testDenseNetGrowthConvAtEveryBlockSize() {
        for size in [28, 14, 7, 3] { compare(cin: 128, cout: 32, height: size, width: size, batch: 3, affine: true) }
    }

    func testTileRemaindersAndChannelTails() {
        compare(cin: 20, cout: 12, height: 5, width: 9, batch: 2)
        compare(cin: 8, cout: 3, height: 1, width: 6, batch: 1, bias: true)
        compare(cin: 33, cout: 17, height: 10, width: 11, batch: 2, affine: true)
    }

    func testStridedBuffersAndImageChunks() {
        compare(cin: 16, cout: 16, height: 9, width: 7, batch: 5, extraInputStride: 5, extraOutputStride: 4,
                affine: true, tilesPerGEMM: 7)
    }

    /// The weight transform follows the weights: changing them changes the output.
    func testTransformFollowsWeightUpdates() {
        var g = SplitMix64(seed: 9, skipping: 0)
        let conv = Conv2D(name: "c", inChannels: 16, outChannels: 8, kernel: 3, padding: 1, generator: &g)
        XCTAssertTrue(conv.usesWinograd)
        let x = randomArray(6 * 6 * 16, seed: 1)
        func forward() -> [Float] {
            var y = [Float](repeating: 0, count: 6 * 6 * 8)
            conv.forward(x: x, ldx: 16, batch: 1, height: 6, width: 6, y: &y, ldy: 8, col: FloatBuffer())
            return y
        }
        let before = forward()
        for i in conv.weight.value.indices { conv.weight.value[i] *= 2 }
        let after = forward()
        for i in before.indices { XCTAssertEqual(after[i], 2 * before[i], accuracy: 1e-4 * max(1, abs(before[i]))) }
    }
}

extension WinogradTests {
    /// The input gradient of a Winograd layer (dy convolved with the flipped kernel through
    /// Winograd) equals the im2col path's, overwriting and accumulating, in strided buffers.
    func testInputGradientMatchesIm2col() {
        let saved = Conv2D.winogradEnabled
        defer { Conv2D.winogradEnabled = saved }
        for accumulate in [false, true] {
            var g = SplitMix64(seed: 2, skipping: 0)
            let (cin, cout, size, batch, ldx, ldy) = (24, 16, 7, 3, 30, 20)
            let conv = Conv2D(name: "c", inChannels: cin, outChannels: cout, kernel: 3, padding: 1, generator: &g)
            let x = randomArray(batch * size * size * ldx, seed: 8), dy = randomArray(batch * size * size * ldy, seed: 9)
            func inputGradient(winograd: Bool) -> [Float] {
                Conv2D.winogradEnabled = winograd
                var dx = randomArray(batch * size * size * ldx, seed: 10)
                conv.backward(x: x, ldx: ldx, batch: batch, height: size, width: size, dy: dy, lddy: ldy,
                              dx: &dx, lddx: ldx, accumulate: accumulate, col: FloatBuffer())
                return dx
            }
            let reference = inputGradient(winograd: false), fast = inputGradient(winograd: true)
            let largest = reference.map(abs).max()!
            let worst = zip(reference, fast).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst / largest, 1e-4, "accumulate \(accumulate)")
            // Columns beyond the input channels keep what was there.
            let untouched = randomArray(batch * size * size * ldx, seed: 10)
            for p in 0..<batch * size * size { for c in cin..<ldx { XCTAssertEqual(fast[p * ldx + c], untouched[p * ldx + c]) } }
        }
    }
}
