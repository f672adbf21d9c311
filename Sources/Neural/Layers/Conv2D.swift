import Determinism
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
    nonisolated(unsafe) public static var targetRows =
        ProcessInfo.processInfo.environment["NETOSIS_CONV_ROWS"].flatMap { Int($0) } ?? 1024

    /// Tiles per Winograd GEMM (see `Winograd`); NETOSIS_WINOGRAD=0 turns the Winograd path off.
    nonisolated(unsafe) public static var winogradTiles =
        ProcessInfo.processInfo.environment["NETOSIS_WINOGRAD_TILES"].flatMap { Int($0) } ?? 256
    nonisolated(unsafe) public static var winogradEnabled = ProcessInfo.processInfo.environment["NETOSIS_WINOGRAD"] != "0"
    private var winograd = Winograd(), winogradBackward = Winograd()

    public var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }
    /// Stride-1 "same" 3×3 convolutions over enough channels to pay for the transforms run forward
    /// through Winograd F(4×4, 3×3); backward stays on im2col.
    public var usesWinograd: Bool {
        Conv2D.winogradEnabled && kernelH == 3 && kernelW == 3 && stride == 1 && padding == 1 && inChannels >= 8
    }
    public var patchLength: Int { kernelH * kernelW * inChannels }

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = false, generator: inout SplitMix64) {
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
                                  value: (0..<outChannels).map { _ in bound * (2 * generator.nextUnitFloat() - 1) },
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
    /// With Winograd, colFloats also covers its forward scratch.
    public func chunking(batch: Int, height: Int, width: Int) -> (images: Int, colFloats: Int) {
        let (oh, ow) = outputSize(height: height, width: width)
        let images = max(1, min(batch, Conv2D.targetRows / max(1, oh * ow)))
        let im2col = isPointwise ? 0 : images * oh * ow * patchLength
        return (images, usesWinograd ? max(im2col, winogradChunking(batch: batch, height: height, width: width).floats) : im2col)
    }

    /// Floats this layer keeps between calls: the Winograd-transformed kernel (36 per weight pair)
    /// and the weights it came from, for the forward and, in training, the flipped backward kernel.
    public func cachedFloats(training: Bool) -> Int {
        guard usesWinograd else { return training && usesFlippedBackward ? weight.count : 0 }
        let perKernel = (Winograd.positions + 9) * inChannels * outChannels
        return training ? 2 * perKernel + weight.count : perKernel
    }

    /// What `cachedFloats` estimates, as allocated now.
    public var cachedFloatsAllocated: Int { winograd.allocatedFloats + winogradBackward.allocatedFloats + flipped.count }

    /// Images transformed per Winograd GEMM and the scratch that needs (floats).
    func winogradChunking(batch: Int, height: Int, width: Int) -> (images: Int, floats: Int) {
        let tiles = Winograd.tiles(height: height, width: width)
        let images = max(1, min(batch, Conv2D.winogradTiles / tiles))
        return (images, Winograd.scratchFloats(tiles: images * tiles, inChannels: inChannels, outChannels: outChannels))
    }

    // MARK: im2col / col2im (channels-last)

    /// Lowers `images` consecutive images (pixel stride ldx, `channels` used) into rows of
    /// kh·kw·channels values, one row per output pixel; image rows are split over threads.
    /// With `affine` (per-channel scale, shift) every copied value becomes max(0, x·scale + shift):
    /// a preceding BatchNorm+ReLU applied while lowering (padding stays zero, as in PyTorch where
    /// the convolution pads the activated tensor).
    static func im2col(_ x: UnsafePointer<Float>, ldx: Int, channels cin: Int, images: Int, height: Int, width: Int,
                       kernel: Int, stride: Int, padding: Int, col: UnsafeMutablePointer<Float>,
                       affine: InputAffine? = nil) {
        let oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1
        let k = kernel * kernel * cin
        Parallel.ranges(images * oh, minimumPerThread: 4) { range in
            for unit in range {
                let image = unit / oh, oy = unit % oh
                let xImage = x + image * height * width * ldx
                var dst = col + (image * oh * ow + oy * ow) * k
                for ox in 0..<ow {
                    // Dense pixels (ldx == channels, e.g. the stem's 1–3 channel input) and a kernel
                    // row fully inside the image: one copy of kernel·channels values per kernel row.
                    let ix0 = ox * stride - padding
                    if affine == nil && ldx == cin && ix0 >= 0 && ix0 + kernel <= width {
                        for ky in 0..<kernel {
                            let iy = oy * stride - padding + ky
                            if iy >= 0 && iy < height {
                                dst.update(from: xImage + (iy * width + ix0) * cin, count: kernel * cin)
                            } else {
                                dst.update(repeating: 0, count: kernel * cin)
                            }
                            dst += kernel * cin
                        }
                        continue
                    }
                    for ky in 0..<kernel {
                        let iy = oy * stride - padding + ky
                        for kx in 0..<kernel {
                            let ix = ox * stride - padding + kx
                            if iy >= 0 && iy < height && ix >= 0 && ix < width {
                                if let affine {
                                    affine.apply(xImage + (iy * width + ix) * ldx, dst, count: cin)
                                } else {
                                    dst.update(from: xImage + (iy * width + ix) * ldx, count: cin)
                                }
                            } else {
                                dst.update(repeating: 0, count: cin)
                            }
                            dst += cin
                        }
                    }
                }
            }
        }
    }

    /// Adds lowered gradients back to the image pixels they came from (single image).
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

    /// Stride-1 "same" convolutions get their input gradient as a convolution of dy with the
    /// spatially flipped, transposed kernel: a GEMM with K = kh·kw·out instead of a K = out GEMM
    /// followed by a scatter (col2im).
    var usesFlippedBackward: Bool {
        stride == 1 && kernelH == kernelW && 2 * padding == kernelH - 1 && !isPointwise
    }
    private var flipped: [Float] = []

    private func refreshFlipped() {
        let k = kernelH, cin = inChannels, cout = outChannels
        if flipped.count != weight.count { flipped = [Float](repeating: 0, count: weight.count) }
        weight.value.withUnsafeBufferPointer { w in
            flipped.withUnsafeMutableBufferPointer { f in
                for co in 0..<cout { for ky in 0..<k { for kx in 0..<k { for ci in 0..<cin {
                    f[((ci * k + (k - 1 - ky)) * k + (k - 1 - kx)) * cout + co] = w[((co * k + ky) * k + kx) * cin + ci]
                } } } }
            }
        }
    }

    // MARK: forward / backward on raw buffers

    /// y[n·oh·ow, ldy] (first `outChannels` columns) = conv(x[n·h·w, ldx]).
    public func forward(x: UnsafePointer<Float>, ldx: Int, batch: Int, height: Int, width: Int,
                        y: UnsafeMutablePointer<Float>, ldy: Int, col: FloatBuffer, inputAffine: InputAffine? = nil) {
        precondition(inputAffine == nil || !isPointwise, "an input affine needs the im2col path")
        let (oh, ow) = outputSize(height: height, width: width)
        weight.value.withUnsafeBufferPointer { w in
            if isPointwise {
                Profiler.time(.conv1x1) {
                    BLAS.sgemm(.none, .transpose, m: batch * height * width, n: outChannels, k: inChannels,
                               a: x, lda: ldx, b: w.baseAddress!, ldb: inChannels, c: y, ldc: ldy)
                }
            } else if usesWinograd {
                winogradForward(x: x, ldx: ldx, batch: batch, height: height, width: width, y: y, ldy: ldy,
                                col: col, inputAffine: inputAffine)
            } else {
                let (images, colFloats) = chunking(batch: batch, height: height, width: width)
                let colPointer = col.reserve(colFloats)
                var start = 0
                while start < batch {
                    let count = min(images, batch - start)
                    Profiler.time(.im2col) {
                        Conv2D.im2col(x + start * height * width * ldx, ldx: ldx, channels: inChannels, images: count,
                                      height: height, width: width, kernel: kernelH, stride: stride, padding: padding,
                                      col: colPointer, affine: inputAffine)
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

    /// y = conv(x) through Winograd (see `Winograd`), chunked as `winogradChunking` says.
    private func winogradForward(x: UnsafePointer<Float>, ldx: Int, batch: Int, height: Int, width: Int,
                                 y: UnsafeMutablePointer<Float>, ldy: Int, col: FloatBuffer, inputAffine: InputAffine?) {
        Profiler.time(.winograd) { winograd.prepare(weights: weight.value, inChannels: inChannels, outChannels: outChannels) }
        let images = winogradChunking(batch: batch, height: height, width: width).images
        winograd.convolve(x: x, ldx: ldx, inChannels: inChannels, batch: batch, height: height, width: width,
                          imagesPerChunk: images, y: y, ldy: ldy, outChannels: outChannels, accumulate: false,
                          col: col, affine: inputAffine)
    }

    /// Accumulates dW (and db) from x and dy; writes dx (overwrite, or add when `accumulate`) if given.
    public func backward(x: UnsafePointer<Float>, ldx: Int, batch: Int, height: Int, width: Int,
                         dy: UnsafePointer<Float>, lddy: Int,
                         dx: UnsafeMutablePointer<Float>?, lddx: Int, accumulate: Bool = false, col: FloatBuffer,
                         inputAffine: InputAffine? = nil) {
        precondition(inputAffine == nil || !isPointwise, "an input affine needs the im2col path")
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
                // dx: a same-convolution of dy with the flipped kernel, through Winograd after the
                // dW loop when the forward uses it, else lowered chunk by chunk below.
                let winogradData = dx != nil && usesFlippedBackward && usesWinograd
                let flippedPath = dx != nil && usesFlippedBackward && !winogradData
                if flippedPath || winogradData { refreshFlipped() }
                // The lowered input, then the lowered gradient (dy lowered, or dcol for col2im).
                // (The Winograd input gradient reuses the whole scratch after the dW loop.)
                let gradientFloats = flippedPath ? images * oh * ow * kernelH * kernelW * outChannels : winogradData ? 0 : colFloats
                let colPointer = col.reserve(colFloats + gradientFloats)
                let dcol = colPointer + colFloats
                var start = 0
                while start < batch {
                    let count = min(images, batch - start)
                    let rows = count * oh * ow
                    Profiler.time(.im2col) {
                        Conv2D.im2col(x + start * height * width * ldx, ldx: ldx, channels: inChannels, images: count,
                                      height: height, width: width, kernel: kernelH, stride: stride, padding: padding,
                                      col: colPointer, affine: inputAffine)
                    }
                    let dyChunk = dy + start * oh * ow * lddy
                    Profiler.time(.convKxK) {
                        BLAS.sgemm(.transpose, .none, m: outChannels, n: patchLength, k: rows,
                                   a: dyChunk, lda: lddy, b: colPointer, ldb: patchLength,
                                   beta: 1, c: dw.baseAddress!, ldc: patchLength)
                    }
                    if let dx, flippedPath {
                        let kk = kernelH * kernelW * outChannels
                        Profiler.time(.im2col) {
                            Conv2D.im2col(dyChunk, ldx: lddy, channels: outChannels, images: count, height: oh, width: ow,
                                          kernel: kernelH, stride: 1, padding: kernelH - 1 - padding, col: dcol)
                        }
                        Profiler.time(.convKxK) {
                            flipped.withUnsafeBufferPointer { f in
                                BLAS.sgemm(.none, .transpose, m: rows, n: inChannels, k: kk,
                                           a: dcol, lda: kk, b: f.baseAddress!, ldb: kk,
                                           beta: accumulate ? 1 : 0, c: dx + start * height * width * lddx, ldc: lddx)
                            }
                        }
                    } else if let dx, !winogradData {
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
                if let dx, winogradData {
                    Profiler.time(.winograd) {
                        winogradBackward.prepare(weights: flipped, inChannels: outChannels, outChannels: inChannels)
                    }
                    let tileImages = winogradChunking(batch: batch, height: height, width: width).images
                    winogradBackward.convolve(x: dy, ldx: lddy, inChannels: outChannels, batch: batch, height: height,
                                              width: width, imagesPerChunk: tileImages, y: dx, ldy: lddx,
                                              outChannels: inChannels, accumulate: accumulate, col: col, affine: nil)
                }
            }
        }
    }
}
