import Determinism
import XCTest
@testable import Neural

/// Finite-difference checks of every layer's backward (input and parameter gradients).
final class LayerGradientTests: XCTestCase {
    let tolerance = 1e-2

    // MARK: Conv2D

    func checkConv(cin: Int, cout: Int, kernel: Int, stride: Int, padding: Int, bias: Bool,
                   batch: Int = 2, size: Int = 6, extraInputStride: Int = 0, extraOutputStride: Int = 0,
                   targetRows: Int = 1024, file: StaticString = #filePath, line: UInt = #line) {
        let saved = Conv2D.targetRows
        Conv2D.targetRows = targetRows
        defer { Conv2D.targetRows = saved }
        var g = SplitMix64(seed: 11, skipping: 1)
        let conv = Conv2D(name: "c", inChannels: cin, outChannels: cout, kernel: kernel, stride: stride,
                          padding: padding, bias: bias, generator: &g)
        let ldx = cin + extraInputStride, ldy = cout + extraOutputStride
        let (oh, ow) = conv.outputSize(height: size, width: size)
        var x = randomArray(batch * size * size * ldx, seed: 1)
        var y = [Float](repeating: 0, count: batch * oh * ow * ldy)
        let r = randomArray(y.count, seed: 2)
        var rMasked = r
        for p in 0..<batch * oh * ow { for c in cout..<ldy { rMasked[p * ldy + c] = 0 } }
        let col = FloatBuffer()
        func loss() -> Double {
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    conv.forward(x: xp.baseAddress!, ldx: ldx, batch: batch, height: size, width: size,
                                 y: yp.baseAddress!, ldy: ldy, col: col)
                    return GradientCheck.dot(yp.baseAddress!, rMasked, count: yp.count)
                }
            }
        }
        _ = loss()
        var dx = [Float](repeating: 0, count: x.count)
        conv.backward(x: x, ldx: ldx, batch: batch, height: size, width: size, dy: rMasked, lddy: ldy,
                      dx: &dx, lddx: ldx, col: col)
        var inputIndices = GradientCheck.sample(x.count)
        inputIndices = inputIndices.filter { $0 % ldx < cin }
        let numericX = GradientCheck.numeric(indices: inputIndices, step: 1e-2, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
        XCTAssertLessThan(GradientCheck.relativeError(inputIndices.map { Double(dx[$0]) }, numericX), tolerance,
                          "conv input gradient", file: file, line: line)
        for p in conv.parameters {
            let idx = GradientCheck.sample(p.count)
            let numericW = GradientCheck.numeric(p, indices: idx, step: 1e-2, loss: loss)
            XCTAssertLessThan(GradientCheck.relativeError(idx.map { Double(p.grad[$0]) }, numericW), tolerance,
                              "conv \(p.name) gradient", file: file, line: line)
        }
    }

    func testConv3x3PaddedWithBias() { checkConv(cin: 3, cout: 4, kernel: 3, stride: 1, padding: 1, bias: true) }
    func testConv3x3Stride2() { checkConv(cin: 2, cout: 3, kernel: 3, stride: 2, padding: 1, bias: false, size: 7) }
    func testConv7x7Stride2Stem() { checkConv(cin: 1, cout: 4, kernel: 7, stride: 2, padding: 3, bias: false, size: 9) }
    func testConvPointwiseStrided() {
        checkConv(cin: 5, cout: 3, kernel: 1, stride: 1, padding: 0, bias: true, extraInputStride: 2, extraOutputStride: 3)
    }
    func testConvKxKStridedBuffersAndImageChunks() {
        // Several images per GEMM chunk, and rows inside wider buffers (as in a dense block).
        checkConv(cin: 3, cout: 2, kernel: 3, stride: 1, padding: 1, bias: false, batch: 3, size: 4,
                  extraInputStride: 2, extraOutputStride: 4, targetRows: 32)
    }
    func testConv3x3WinogradForwardMatchesItsBackward() {
        // ≥ 8 input channels: the forward runs through Winograd, the backward through im2col.
        checkConv(cin: 9, cout: 5, kernel: 3, stride: 1, padding: 1, bias: true, batch: 2, size: 5, extraInputStride: 3)
    }

    /// The checker itself must catch a wrong gradient (else every test above could pass vacuously).
    func testCheckerRejectsAWrongGradient() {
        let analytic = [1.0, 2.0, 3.0], numeric = [1.0, 2.0, 3.1]
        XCTAssertGreaterThan(GradientCheck.relativeError(analytic, numeric), tolerance)
        XCTAssertLessThan(GradientCheck.relativeError(analytic, analytic), 1e-12)
    }

    func testConvMatchesDirectSum() {
        // A 2×2 kernel on a 3×3 single-channel image, computed by hand.
        var g = SplitMix64(seed: 1, skipping: 1)
        let conv = Conv2D(name: "c", inChannels: 1, outChannels: 1, kernel: 2, generator: &g)
        conv.weight.value = [1, 2, 3, 4]           // [out, kh, kw, in]
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        var y = [Float](repeating: 0, count: 4)
        conv.forward(x: x, ldx: 1, batch: 1, height: 3, width: 3, y: &y, ldy: 1, col: FloatBuffer())
        let expected: [Float] = [37, 47, 67, 77]   // e.g. 1·1 + 2·2 + 4·3 + 5·4
        XCTAssertEqual(y, expected)
    }

    func testConvInputAffineEqualsNormalisedInput() {
        // conv(relu(x·a + b)) computed while lowering must equal conv of the precomputed activation.
        var g = SplitMix64(seed: 19, skipping: 1)
        let (cin, h) = (20, 5)   // 16-wide vector part plus a scalar tail
        let conv = Conv2D(name: "c", inChannels: cin, outChannels: 3, kernel: 3, padding: 1, generator: &g)
        let x = randomArray(2 * h * h * cin, seed: 20)
        let a = randomArray(cin, seed: 21), b = randomArray(cin, seed: 22)
        var activated = x
        for i in x.indices { activated[i] = max(0, x[i] * a[i % cin] + b[i % cin]) }
        var y1 = [Float](repeating: 0, count: 2 * h * h * 3), y2 = y1
        conv.forward(x: activated, ldx: cin, batch: 2, height: h, width: h, y: &y1, ldy: 3, col: FloatBuffer())
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                conv.forward(x: x, ldx: cin, batch: 2, height: h, width: h, y: &y2, ldy: 3, col: FloatBuffer(),
                             inputAffine: InputAffine(scale: ap.baseAddress!, shift: bp.baseAddress!))
            }
        }
        for i in y1.indices { XCTAssertEqual(y1[i], y2[i], accuracy: 1e-5) }
    }

    // MARK: BatchNorm

    func checkBatchNorm(relu: Bool, ld: Int, channels: Int = 4, rows: Int = 12) {
        let bn = BatchNorm2D(name: "bn", channels: channels)
        var g = SplitMix64(seed: 3, skipping: 1)
        for j in 0..<channels { bn.weight.value[j] = 0.5 + g.nextUnitFloat(); bn.bias.value[j] = 0.3 * g.nextNormal() }
        var x = randomArray(rows * ld, seed: 4, scale: 2)
        for i in x.indices { x[i] += Float(i % ld) }    // distinct channel means
        var y = [Float](repeating: 0, count: rows * channels)
        let r = randomArray(y.count, seed: 5)
        func loss() -> Double {
            bn.forwardTraining(x: x, ldx: ld, rows: rows, y: &y, ldy: channels, relu: relu)
            return GradientCheck.dot(y, r, count: y.count)
        }
        _ = loss()
        // With the fused ReLU a large step would cross kinks; without it a larger step is more accurate.
        let step: Float = relu ? 1e-3 : 1e-2
        var dx = [Float](repeating: 7, count: x.count)   // accumulate onto a known value
        bn.backward(x: x, ldx: ld, rows: rows, dy: r, lddy: channels, dx: &dx, lddx: ld, accumulate: true, relu: relu)
        let idx = GradientCheck.sample(x.count).filter { $0 % ld < channels }
        let numeric = GradientCheck.numeric(indices: idx, step: step, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
        XCTAssertLessThan(GradientCheck.relativeError(idx.map { Double(dx[$0] - 7) }, numeric), tolerance)
        for p in bn.parameters {
            let numericP = GradientCheck.numeric(p, indices: Array(0..<channels), step: step, loss: loss)
            XCTAssertLessThan(GradientCheck.relativeError(p.grad.map(Double.init), numericP), tolerance, p.name)
        }
    }

    func testBatchNormGradient() { checkBatchNorm(relu: false, ld: 4) }
    func testBatchNormReLUFusedStridedGradient() { checkBatchNorm(relu: true, ld: 6) }

    func testBatchNormStatisticsAndRunningUpdate() {
        let bn = BatchNorm2D(name: "bn", channels: 1, momentum: 0.1)
        let x: [Float] = [1, 2, 3, 4]
        var y = [Float](repeating: 0, count: 4)
        bn.forwardTraining(x: x, ldx: 1, rows: 4, y: &y, ldy: 1, relu: false)
        // mean 2.5, biased var 1.25, unbiased 5/3
        XCTAssertEqual(bn.runningMean.value[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(bn.runningVar.value[0], 0.9 + 0.1 * 5 / 3, accuracy: 1e-6)
        XCTAssertEqual(y[0], Float(-1.5 / (1.25 + 1e-5).squareRoot()), accuracy: 1e-5)
        var z = [Float](repeating: 0, count: 4)
        bn.forwardInference(x: x, ldx: 1, rows: 4, y: &z, ldy: 1, relu: true)
        let expected = (1 - 0.25) / (bn.runningVar.value[0] + 1e-5).squareRoot()
        XCTAssertEqual(z[0], expected, accuracy: 1e-5)
    }

    // MARK: pooling, dense, activations

    func checkPool(forward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
                   backward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
                   inputCount: Int, outputCount: Int, name: String) {
        var x = randomArray(inputCount, seed: 8)
        var y = [Float](repeating: 0, count: outputCount)
        let r = randomArray(outputCount, seed: 9)
        func loss() -> Double {
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { forward(xp.baseAddress!, $0.baseAddress!) } }
            return GradientCheck.dot(y, r, count: y.count)
        }
        _ = loss()
        var dx = [Float](repeating: 0, count: inputCount)
        r.withUnsafeBufferPointer { rp in dx.withUnsafeMutableBufferPointer { backward(rp.baseAddress!, $0.baseAddress!) } }
        let idx = GradientCheck.sample(inputCount)
        let numeric = GradientCheck.numeric(indices: idx, step: 1e-3, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
        XCTAssertLessThan(GradientCheck.relativeError(idx.map { Double(dx[$0]) }, numeric), tolerance, name)
    }

    func testMaxPoolGradient() {
        let pool = MaxPool2D(kernel: 3, stride: 2, padding: 1)
        let (n, h, c) = (2, 7, 3)
        let (oh, ow) = pool.outputSize(height: h, width: h)
        checkPool(forward: { pool.forward(x: $0, ldx: c, batch: n, height: h, width: h, channels: c, y: $1, ldy: c) },
                  backward: { pool.backward(dy: $0, lddy: c, batch: n, height: h, width: h, channels: c, dx: $1, lddx: c) },
                  inputCount: n * h * h * c, outputCount: n * oh * ow * c, name: "maxpool")
    }

    func testAvgPoolGradients() {
        for (k, s, p, h) in [(2, 2, 0, 7), (3, 2, 1, 6)] {
            let pool = AvgPool2D(kernel: k, stride: s, padding: p)
            let (n, c) = (2, 3)
            let (oh, ow) = pool.outputSize(height: h, width: h)
            checkPool(forward: { pool.forward(x: $0, ldx: c, batch: n, height: h, width: h, channels: c, y: $1, ldy: c) },
                      backward: { pool.backward(dy: $0, lddy: c, batch: n, height: h, width: h, channels: c, dx: $1, lddx: c) },
                      inputCount: n * h * h * c, outputCount: n * oh * ow * c, name: "avgpool \(k)/\(s)/\(p)")
        }
    }

    func testGlobalAvgPoolGradient() {
        let (n, pixels, c) = (3, 5, 4)
        checkPool(forward: { GlobalAvgPool.forward(x: $0, ldx: c, batch: n, pixels: pixels, channels: c, y: $1) },
                  backward: { GlobalAvgPool.backward(dy: $0, batch: n, pixels: pixels, channels: c, dx: $1, lddx: c) },
                  inputCount: n * pixels * c, outputCount: n * c, name: "global average pool")
    }

    func testReLUGradient() {
        var x = randomArray(30, seed: 12, awayFromZero: 0.05)
        let r = randomArray(30, seed: 13)
        var y = [Float](repeating: 0, count: 30)
        func loss() -> Double { ReLU.forward(x, &y, count: 30); return GradientCheck.dot(y, r, count: 30) }
        var dx = [Float](repeating: 0, count: 30)
        ReLU.backward(x: x, dy: r, dx: &dx, count: 30)
        let numeric = GradientCheck.numeric(indices: Array(0..<30), step: 1e-3, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
        XCTAssertLessThan(GradientCheck.relativeError(dx.map(Double.init), numeric), 1e-3)
    }

    func testDropoutGradientAndScaling() {
        let dropout = Dropout(rate: 0.3, seed: 42)
        var x = randomArray(200, seed: 14)
        let r = randomArray(200, seed: 15)
        var y = [Float](repeating: 0, count: 200)
        func loss() -> Double {
            dropout.seed = 42    // the same mask for every evaluation
            dropout.forward(x, &y, count: 200, training: true)
            return GradientCheck.dot(y, r, count: 200)
        }
        _ = loss()
        let zeros = y.filter { $0 == 0 }.count
        XCTAssert((30...90).contains(zeros), "about 30% dropped, got \(zeros)/200")
        var dx = [Float](repeating: 0, count: 200)
        dropout.backward(dy: r, dx: &dx, count: 200, training: true)
        let idx = GradientCheck.sample(200)
        let numeric = GradientCheck.numeric(indices: idx, step: 1e-2, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
        XCTAssertLessThan(GradientCheck.relativeError(idx.map { Double(dx[$0]) }, numeric), 1e-3)
        dropout.forward(x, &y, count: 200, training: false)
        XCTAssertEqual(y, x)
    }

    func testDenseGradient() {
        var g = SplitMix64(seed: 16, skipping: 1)
        let dense = Dense(name: "fc", inFeatures: 5, outFeatures: 3, generator: &g)
        var x = randomArray(4 * 5, seed: 17)
        let r = randomArray(4 * 3, seed: 18)
        var y = [Float](repeating: 0, count: 12)
        func loss() -> Double { dense.forward(x: x, batch: 4, y: &y); return GradientCheck.dot(y, r, count: 12) }
        _ = loss()
        var dx = [Float](repeating: 0, count: 20)
        dense.backward(x: x, batch: 4, dy: r, dx: &dx)
        let numeric = GradientCheck.numeric(indices: Array(0..<20), step: 1e-2, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)
        XCTAssertLessThan(GradientCheck.relativeError(dx.map(Double.init), numeric), tolerance)
        for p in dense.parameters {
            let numericP = GradientCheck.numeric(p, indices: Array(0..<p.count), step: 1e-2, loss: loss)
            XCTAssertLessThan(GradientCheck.relativeError(p.grad.map(Double.init), numericP), tolerance, p.name)
        }
    }

    func testConcatForwardAndBackward() {
        let a = Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 1, 1, 1], scalars: [5, 6])
        let y = Concat.forward([a, b])
        XCTAssertEqual(y.shape, [2, 1, 1, 3])
        XCTAssertEqual(y.scalars, [1, 2, 5, 3, 4, 6])
        // Σ y·r has gradient r; split back it must be the r of each input's columns.
        let r = Tensor(shape: [2, 1, 1, 3], scalars: [10, 20, 30, 40, 50, 60])
        let parts = Concat.backward(r, channels: [2, 1])
        XCTAssertEqual(parts[0].scalars, [10, 20, 40, 50])
        XCTAssertEqual(parts[1].scalars, [30, 60])
    }
}
