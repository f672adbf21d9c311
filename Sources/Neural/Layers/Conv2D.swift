import Foundation

/// 2-D convolution over channels-last images.
///
/// The kernel is stored as [out, kh, kw, in] so that an im2col row (the kh·kw·in input values
/// under one output pixel, copied as kh·kw contiguous runs of `in` channels) multiplies it
/// directly; checkpoints use PyTorch's [out, in, kh, kw] and `WeightIO` permutes.
/// A 1×1, stride-1, unpadded convolution needs no im2col: it is one GEMM over all pixels of the
/// batch, reading and writing with row strides so it can work inside a wider buffer.
public final class Conv2D {
    public let inChannels: Int, outChannels: Int
    public let kernelH: Int, kernelW: Int, stride: Int, padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// Output rows per im2col GEMM: several small images are lowered together.
    public static var targetRows = 1024

    public var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }
    public var patchLength: Int { kernelH * kernelW * inChannels }

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = false, generator: inout SeededGenerator) {
        self.inChannels = inChannels; self.outChannels = outChannels
        kernelH = kernel; kernelW = kernel; self.stride = stride; self.padding = padding
        // Kaiming normal, fan-in, gain √2 (what torchvision's DenseNet uses).
        let fanIn = inChannels * kernel * kernel
        let std = Float((2.0 / Double(fanIn)).squareRoot())
        var values = [Float](repeating: 0, count: outChannels * fanIn)
        for i in values.indices { values[i] = std * generator.nextNormal() }
        weight = Parameter(name: name + "/weight", shape: [outChannels, inChannels, kernel, kernel], value: values)
        weight.isConvKernel = true
        if bias {
            let bound = Float(1 / Double(fanIn).squareRoot())
            self.bias = Parameter(name: name + "/bias", shape: [outChannels],
                                  value: (0..<outChannels).map { _ in bound * (2 * generator.nextUniform() - 1) },
                                  decays: false)
        } else {
            self.bias = nil
        }
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelH) / stride + 1, (width + 2 * padding - kernelW) / stride + 1)
    }

    /// Images lowered per GEMM and the im2col scratch that needs (floats).
    public func chunking(batch: Int, height: Int, width: Int) -> (images: Int, colFloats: Int) {
        let (oh, ow) = outputSize(height: height, width: width)
        let images = max(1, min(batch, Conv2D.targetRows / max(1, oh * ow)))
        return (images, isPointwise ? 0 : images * oh * ow * patchLength)
    }

    // MARK: im2col / col2im (channels-last)

    @inline(__always)
    func im2col(_ x: UnsafePointer<Float>, ldx: Int, height: Int, width: Int, col: UnsafeMutablePointer<Float>) {
        let (oh, ow) = outputSize(height: height, width: width)
        let cin = inChannels, k = patchLength
        for oy in 0..<oh {
            for ox in 0..<ow {
                var dst = col + (oy * ow + ox) * k
                for ky in 0..<kernelH {
                    let iy = oy * stride - padding + ky
                    for kx in 0..<kernelW {
                        let ix = ox * stride - padding + kx
                        if iy >= 0 && iy < height && ix >= 0 && ix < width {
                            dst.update(from: x + (iy * width + ix) * ldx, count: cin)
                        } else {
                            dst.update(repeating: 0, count: cin)
                        }
                        dst += cin
                    }
                }
            }
        }
    }

    @inline(__always)
    func col2im(_ col: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, lddx: Int, height: Int, width: Int) {
        let (oh, ow) = outputSize(height: height, width: width)
        let cin = inChannels, k = patchLength
        for oy in 0..<oh {
            for ox in 0..<ow {
                var src = col + (oy * ow + ox) * k
                for ky in 0..<kernelH {
                    let iy = oy * stride - padding + ky
                    for kx in 0..<kernelW {
                        let ix = ox * stride - padding + kx
                        if iy >= 0 && iy < height && ix >= 0 && ix < width {
                            let d = dx + (iy * width + ix) * lddx
                            for c in 0..<cin { d[c] += src[c] }
                        }
                        src += cin
                    }
                }
            }
        }
    }

    // MARK: forward / backward on raw buffers

    /// y[n·oh·ow, ldy] (first `outChannels` columns) = conv(x[n·h·w, ldx]).
    public func forward(x: UnsafePointer<Float>, ldx: Int, batch: Int, height: Int, width: Int,
                        y: UnsafeMutablePointer<Float>, ldy: Int, col: FloatBuffer) {
        let (oh, ow) = outputSize(height: height, width: width)
        weight.value.withUnsafeBufferPointer { w in
            if isPointwise {
                Profiler.time(.conv1x1) {
                    BLAS.sgemm(.none, .transpose, m: batch * height * width, n: outChannels, k: inChannels,
                               a: x, lda: ldx, b: w.baseAddress!, ldb: inChannels, c: y, ldc: ldy)
                }
            } else {
                let (images, colFloats) = chunking(batch: batch, height: height, width: width)
                let colPointer = col.reserve(colFloats)
                var start = 0
                while start < batch {
                    let count = min(images, batch - start)
                    Profiler.time(.im2col) {
                        for i in 0..<count {
                            im2col(x + (start + i) * height * width * ldx, ldx: ldx, height: height, width: width,
                                   col: colPointer + i * oh * ow * patchLength)
                        }
                    }
                    Profiler.time(.convKxK) {
                        BLAS.sgemm(.none, .transpose, m: count * oh * ow, n: outChannels, k: patchLength,
                                   a: colPointer, lda: patchLength, b: w.baseAddress!, ldb: patchLength,
                                   c: y + start * oh * ow * ldy, ldc: ldy)
                    }
                    start += count
                }
            }
        }
        if let bias {
            bias.value.withUnsafeBufferPointer { b in
                for r in 0..<batch * oh * ow {
                    let row = y + r * ldy
                    for c in 0..<outChannels { row[c] += b[c] }
                }
            }
        }
    }

    /// Accumulates dW (and db) from x and dy; writes dx (overwrite, or add when `accumulate`) if given.
    public func backward(x: UnsafePointer<Float>, ldx: Int, batch: Int, height: Int, width: Int,
                         dy: UnsafePointer<Float>, lddy: Int,
                         dx: UnsafeMutablePointer<Float>?, lddx: Int, accumulate: Bool = false, col: FloatBuffer) {
        let (oh, ow) = outputSize(height: height, width: width)
        if let bias {
            bias.grad.withUnsafeMutableBufferPointer { db in
                for r in 0..<batch * oh * ow {
                    let row = dy + r * lddy
                    for c in 0..<outChannels { db[c] += row[c] }
                }
            }
        }
        weight.grad.withUnsafeMutableBufferPointer { dw in
            weight.value.withUnsafeBufferPointer { w in
                if isPointwise {
                    let rows = batch * height * width
                    Profiler.time(.conv1x1) {
                        BLAS.sgemm(.transpose, .none, m: outChannels, n: inChannels, k: rows,
                                   a: dy, lda: lddy, b: x, ldb: ldx, beta: 1, c: dw.baseAddress!, ldc: inChannels)
                        if let dx {
                            BLAS.sgemm(.none, .none, m: rows, n: inChannels, k: outChannels,
                                       a: dy, lda: lddy, b: w.baseAddress!, ldb: inChannels,
                                       beta: accumulate ? 1 : 0, c: dx, ldc: lddx)
                        }
                    }
                    return
                }
                let (images, colFloats) = chunking(batch: batch, height: height, width: width)
                // One half of the scratch holds the lowered input, the other the lowered gradient.
                let colPointer = col.reserve(2 * colFloats)
                let dcol = colPointer + colFloats
                var start = 0
                while start < batch {
                    let count = min(images, batch - start)
                    let rows = count * oh * ow
                    Profiler.time(.im2col) {
                        for i in 0..<count {
                            im2col(x + (start + i) * height * width * ldx, ldx: ldx, height: height, width: width,
                                   col: colPointer + i * oh * ow * patchLength)
                        }
                    }
                    let dyChunk = dy + start * oh * ow * lddy
                    Profiler.time(.convKxK) {
                        BLAS.sgemm(.transpose, .none, m: outChannels, n: patchLength, k: rows,
                                   a: dyChunk, lda: lddy, b: colPointer, ldb: patchLength,
                                   beta: 1, c: dw.baseAddress!, ldc: patchLength)
                    }
                    if let dx {
                        Profiler.time(.convKxK) {
                            BLAS.sgemm(.none, .none, m: rows, n: patchLength, k: outChannels,
                                       a: dyChunk, lda: lddy, b: w.baseAddress!, ldb: patchLength,
                                       c: dcol, ldc: patchLength)
                        }
                        Profiler.time(.im2col) {
                            for i in 0..<count {
                                let dxImage = dx + (start + i) * height * width * lddx
                                if !accumulate {
                                    for p in 0..<height * width {
                                        (dxImage + p * lddx).update(repeating: 0, count: inChannels)
                                    }
                                }
                                col2im(dcol + i * oh * ow * patchLength, dx: dxImage, lddx: lddx,
                                       height: height, width: width)
                            }
                        }
                    }
                    start += count
                }
            }
        }
    }
}
