import Determinism
import XCTest
@testable import Neural

/// The whole-image pass equals one inference forward per window.
final class SlidingWindowPassTests: XCTestCase {
    func window(_ image: [Float], width: Int, channels: Int, x: Int, y: Int, size: Int) -> [Float] {
        var out: [Float] = []
        for r in y..<y + size { out += image[((r * width) + x) * channels ..< ((r * width) + x + size) * channels] }
        return out
    }

    func check(_ config: SequentialConfig, height: Int, width: Int, samples: Int, seed: UInt64) throws {
        let net = try SequentialNet(config: config, seed: seed)
        // Non-trivial BatchNorm running statistics.
        for case let bn as BatchNormLayer in net.layers {
            var g = SplitMix64(seed: seed, 9)
            for j in 0..<bn.norm.channels {
                bn.norm.runningMean.value[j] = g.nextNormal() * 0.1
                bn.norm.runningVar.value[j] = 0.5 + g.nextUnitFloat()
                bn.norm.weight.value[j] = 0.5 + g.nextUnitFloat()
            }
        }
        let c = config.inputChannels, size = config.inputSize
        let image = randomArray(height * width * c, seed: seed + 1)
        let pass = try SlidingWindowPass(net)
        let map = try pass.run(image, height: height, width: width)
        XCTAssertEqual(map.height, height - size + 1)
        XCTAssertEqual(map.width, width - size + 1)
        XCTAssertEqual(map.classes, config.numClasses)
        var g = SplitMix64(seed: seed, 3)
        var offsets = [(0, 0), (map.width - 1, map.height - 1), (map.width - 1, 0), (0, map.height - 1)]
        for _ in 0..<samples { offsets.append((g.nextInt(below: map.width), g.nextInt(below: map.height))) }
        var worst = 0.0
        for (x, y) in offsets {
            let logits = net.forward(window(image, width: width, channels: c, x: x, y: y, size: size), batch: 1,
                                     height: size, width: size, training: false)
            for j in 0..<map.classes {
                let dense = map.scores[(y * map.width + x) * map.classes + j]
                worst = max(worst, Double(abs(dense - logits[j])) / max(1, Double(abs(logits[j]))))
            }
        }
        XCTAssertLessThanOrEqual(worst, 1e-5, "\(config.name): largest relative difference dense vs per-window")
    }

    func testEveryLayerKindMatchesPerWindowForwards() throws {
        let config = try SequentialConfig.parse(yaml: """
            architecture: sequential
            name: window-net
            input_channels: 2
            input_size: 17
            layers:
              - conv: {filters: 5, kernel: 3}
              - batchnorm
              - relu
              - maxpool: 2
              - dropout: 0.5
              - conv: {filters: 6, kernel: 2, stride: 2}
              - relu
              - avgpool: {kernel: 2, stride: 1}
              - flatten
              - dense: 7
              - batchnorm
              - relu
              - dense: 3
              - softmax
            """)
        try check(config, height: 41, width: 38, samples: 40, seed: 21)
    }

    /// The paper's stage 1: a 512×672 field would give 481×641 windows; a smaller field here.
    func testPLStageOneMatchesPerWindowForwards() throws {
        try check(SequentialConfig.presets["pl-stage1"]!, height: 52, width: 61, samples: 20, seed: 5)
    }

    func testPaddedNetworksAreRefused() throws {
        let padded = SequentialConfig(name: "padded", inputSize: 8,
                                      layers: [.conv(filters: 2, kernel: 3, stride: 1, padding: 1, bias: true), .flatten, .dense(units: 2)])
        XCTAssertThrowsError(try SlidingWindowPass(SequentialNet(config: padded))) {
            XCTAssert("\($0)".contains("layer 0 (conv) is padded"), "\($0)")
        }
    }

    func testSoftmaxGivesProbabilities() throws {
        let net = try SequentialNet(config: SequentialConfig.presets["pl-stage1"]!, seed: 2)
        let map = try SlidingWindowPass(net).run(randomArray(34 * 35, seed: 1), height: 34, width: 35, softmax: true)
        XCTAssertEqual(map.height * map.width, 3 * 4)
        for p in 0..<12 {
            let row = map.scores[p * 3 ..< p * 3 + 3]
            XCTAssertEqual(Double(row.reduce(0, +)), 1, accuracy: 1e-5)
            XCTAssertTrue(row.allSatisfy { $0 >= 0 })
        }
    }

    /// y[oy, ox, o] = b[o] + Σ W[o, ky, kx, c] x[oy + d·ky, ox + d·kx, c], in Double, one term at a time.
    func naiveCorrelation(_ x: [Float], height: Int, width: Int, channels: Int, kh: Int, kw: Int, d: Int,
                          weights: [Float], out: Int, bias: [Float]) -> [Double] {
        let oh = height - d * (kh - 1), ow = width - d * (kw - 1)
        var y = [Double](repeating: 0, count: oh * ow * out)
        for oy in 0..<oh { for ox in 0..<ow { for o in 0..<out {
            var sum = Double(bias[o])
            for ky in 0..<kh { for kx in 0..<kw { for c in 0..<channels {
                sum += Double(weights[((o * kh + ky) * kw + kx) * channels + c]) * Double(x[((oy + d * ky) * width + ox + d * kx) * channels + c])
            } } }
            y[(oy * ow + ox) * out + o] = sum
        } } }
        return y
    }

    /// The FFT correlation (polyphase, overlap-save tiles) and the per-tap GEMM convolution equal a
    /// plain sum at every output: dilations 1–3, non-square kernels, channel and output counts that do
    /// not fill the 8 SIMD lanes, images whose sub-grids end mid-tile.
    func testFFTAndShiftedConvolutionsEqualThePlainSum() {
        let cases: [(h: Int, w: Int, c: Int, kh: Int, kw: Int, d: Int, out: Int)] = [
            (40, 45, 3, 5, 5, 1, 5), (61, 50, 16, 7, 6, 2, 9), (70, 73, 10, 10, 10, 3, 16), (33, 90, 17, 12, 5, 1, 3),
        ]
        for (n, t) in cases.enumerated() {
            let x = randomArray(t.h * t.w * t.c, seed: UInt64(10 + n))
            let weights = randomArray(t.out * t.kh * t.kw * t.c, seed: UInt64(20 + n)).map { $0 * 0.1 }
            let bias = randomArray(t.out, seed: UInt64(30 + n))
            let reference = naiveCorrelation(x, height: t.h, width: t.w, channels: t.c, kh: t.kh, kw: t.kw, d: t.d,
                                             weights: weights, out: t.out, bias: bias)
            let scale = max(1, reference.map(abs).max()!)
            let fft = FFTCorrelation(weights: weights, outChannels: t.out, kernelH: t.kh, kernelW: t.kw, channels: t.c,
                                     dilation: t.d, bias: bias)
            let (viaFFT, fh, fw) = fft(x, height: t.h, width: t.w)
            XCTAssertEqual(fh, t.h - t.d * (t.kh - 1)); XCTAssertEqual(fw, t.w - t.d * (t.kw - 1))
            let worstFFT = zip(viaFFT, reference).map { abs(Double($0) - $1) }.max()! / scale
            XCTAssertLessThan(worstFFT, 1e-5, "FFT correlation, case \(n) \(t)")
            let (direct, _, _) = SlidingWindowPass.dilatedConvolution(x, height: t.h, width: t.w, channels: t.c, kernelH: t.kh,
                                                                      kernelW: t.kw, dilation: t.d, weights: weights,
                                                                      outChannels: t.out, bias: bias)
            let worstDirect = zip(direct, reference).map { abs(Double($0) - $1) }.max()! / scale
            XCTAssertLessThan(worstDirect, 1e-5, "\(t.c >= 16 ? "per-tap GEMM" : "im2col") convolution, case \(n) \(t)")
        }
    }
}
