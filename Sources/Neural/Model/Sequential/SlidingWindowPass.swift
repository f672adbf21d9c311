import Foundation

/// A window classifier applied to every valid window of a whole image in one fully-convolutional
/// pass (the PL counter's stage 1: a 32×32 network over a 512×672 field gives a 481×641 map), with
/// exactly the numbers one forward per window would give, in inference mode.
///
/// Why it is exact: every layer of an unpadded window network is shift-equivariant except the
/// strides. A stride-s layer is run at stride 1 instead, and every later layer reads its input
/// with dilation ×s ("à trous"): the window at offset (y, x) then finds its values at
/// (y + d·i, x + d·j). `flatten` + `dense` becomes a convolution whose kernel is the window's
/// feature map (read with the accumulated dilation); later dense layers are 1×1 convolutions.
/// Padding would make border windows see zeros a whole-image pass does not, so it is refused.
public struct SlidingWindowPass {
    public let net: SequentialNet
    /// The frequency-domain form of each large flattened dense layer, built on first use (kernel
    /// spectra cost a few hundred ms; a pass over many images builds them once).
    private let spectra = SpectraCache()
    /// Buffers of the layers' maps, reused image after image.
    private let pool = BufferPool()

    public init(_ net: SequentialNet) throws {
        guard net.config.inputWidth == net.config.inputSize else {
            throw NeuralError.badConfig("model '\(net.config.name)' takes \(net.config.inputSize)×\(net.config.inputWidth) input; a sliding window is square")
        }
        for (i, spec) in net.config.layers.enumerated() {
            if case let .conv(_, _, _, padding, _) = spec, padding != 0 {
                throw NeuralError.badConfig("model '\(net.config.name)': layer \(i) (conv) is padded; a sliding-window pass needs unpadded convolutions")
            }
            if spec == .globalAvgPool || spec == .globalSumPool {
                throw NeuralError.badConfig("model '\(net.config.name)': layer \(i) (\(spec.kind)) pools the whole input; it is not a window network")
            }
        }
        self.net = net
    }

    /// Class scores [outHeight, outWidth, classes] for every window of a channels-last image
    /// [height, width, inputChannels]: entry (y, x) is the network's output on the window whose top-left
    /// corner is (y, x); outHeight = height − inputSize + 1. `softmax` turns logits into probabilities.
    public func run(_ image: [Float], height: Int, width: Int, softmax: Bool = false) throws
        -> (scores: [Float], height: Int, width: Int, classes: Int) {
        let config = net.config, size = config.inputSize
        guard height >= size, width >= size, image.count == height * width * config.inputChannels else {
            throw NeuralError.badConfig("a \(height)×\(width) image is smaller than the \(size)×\(size) window of '\(config.name)'")
        }
        var map = image
        var mapIsInput = true
        /// Replaces the map by a layer's output; the old one goes back to the pool (not the caller's image).
        func advance(_ next: ([Float], Int, Int)) {
            if !mapIsInput { pool.give(map) }
            mapIsInput = false
            (map, h, w) = next
        }
        var (h, w, c, dilation) = (height, width, config.inputChannels, 1)
        var flattened: FeatureShape?   // the window's map a flatten just turned into features
        for (i, layer) in net.layers.enumerated() {
            let windowShape = net.shapes[i]   // what one window's forward sees here
            switch layer {
            case let conv as ConvLayer:
                let k = conv.conv.kernelH
                let weights = conv.conv.weight.value   // internal [out, kh, kw, in]: im2col order
                advance(Self.dilatedConvolution(map, height: h, width: w, channels: c, kernelH: k, kernelW: k,
                                                dilation: dilation, weights: weights, outChannels: conv.conv.outChannels,
                                                bias: conv.conv.bias?.value, pool: pool))
                c = conv.conv.outChannels
                dilation *= conv.conv.stride
            case let dense as DenseLayer:
                let out = dense.dense.outFeatures
                if let flat = flattened {
                    // The window's flattened map (channel-major, as torch.flatten) as a kernel [out, kh, kw, c].
                    let (kh, kw, kc) = (flat.height, flat.width, flat.channels)
                    flattened = nil
                    let kernel = Self.flattenedKernel(dense.dense.weight.value, out: out, height: kh, width: kw, channels: kc)
                    if FFTCorrelation.worthwhile(kernelH: kh, kernelW: kw) {
                        let correlation = spectra.get(i) {
                            FFTCorrelation(weights: kernel, outChannels: out, kernelH: kh, kernelW: kw, channels: c,
                                           dilation: dilation, bias: dense.dense.bias!.value)
                        }
                        advance(correlation(map, height: h, width: w, pool: pool))
                    } else {
                        advance(Self.dilatedConvolution(map, height: h, width: w, channels: c, kernelH: kh, kernelW: kw,
                                                        dilation: dilation, weights: kernel, outChannels: out, bias: dense.dense.bias!.value,
                                                        pool: pool))
                    }
                } else {
                    advance(Self.dilatedConvolution(map, height: h, width: w, channels: c, kernelH: 1, kernelW: 1,
                                                    dilation: 1, weights: dense.dense.weight.value, outChannels: out,
                                                    bias: dense.dense.bias!.value, pool: pool))
                }
                c = out
            case is FlattenLayer:
                // A 1×1 window map flattens to its channels: the next dense layer is then a 1×1 convolution.
                flattened = !windowShape.isFlat && windowShape.height * windowShape.width > 1 ? windowShape : nil
            case let pool as PoolLayer<MaxPool2D>:
                advance(Self.dilatedPool(map, height: h, width: w, channels: c, kernel: pool.pool.kernel, dilation: dilation, max: true,
                                         pool: self.pool))
                dilation *= pool.pool.stride
            case let pool as PoolLayer<AvgPool2D>:
                advance(Self.dilatedPool(map, height: h, width: w, channels: c, kernel: pool.pool.kernel, dilation: dilation, max: false,
                                         pool: self.pool))
                dilation *= pool.pool.stride
            case let norm as BatchNormLayer:
                var y = pool.take(map.count)
                map.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { norm.norm.forwardInference(x: x.baseAddress!, ldx: c, rows: h * w, y: $0.baseAddress!, ldy: c, relu: false) }
                }
                advance((y, h, w))
            case is ReLULayer:
                if mapIsInput { advance((map, h, w)) }   // a copy: never write into the caller's image
                Self.relu(&map)
            case is DropoutLayer, is IdentityLayer:
                break   // inference: identity
            default:
                throw NeuralError.badConfig("layer \(i) of '\(config.name)' has no sliding-window form")
            }
        }
        // Layers that drop a window's last rows (a pooling stride that does not divide) leave positions
        // past the last whole window: keep only the windows inside the image.
        let (validH, validW) = (height - size + 1, width - size + 1)
        if h > validH || w > validW {
            var cropped = [Float](repeating: 0, count: validH * validW * c)
            for y in 0..<validH { for x in 0..<validW { for j in 0..<c { cropped[(y * validW + x) * c + j] = map[(y * w + x) * c + j] } } }
            (map, h, w) = (cropped, validH, validW)
        }
        if softmax {
            for p in 0..<h * w {
                let row = p * c
                var top = -Float.infinity
                for j in 0..<c { top = max(top, map[row + j]) }
                var sum: Float = 0
                for j in 0..<c { map[row + j] = expf(map[row + j] - top); sum += map[row + j] }
                for j in 0..<c { map[row + j] /= sum }
            }
        }
        return (map, h, w, c)
    }

    /// Dense weights [out, c·h·w] (channel-major flatten) → a kernel [out, h, w, c].
    static func flattenedKernel(_ weights: [Float], out: Int, height: Int, width: Int, channels: Int) -> [Float] {
        var kernel = [Float](repeating: 0, count: weights.count)
        let hw = height * width
        for o in 0..<out { for p in 0..<hw { for ch in 0..<channels {
            kernel[(o * hw + p) * channels + ch] = weights[o * channels * hw + ch * hw + p]
        } } }
        return kernel
    }

    /// y[oy, ox, :] = bias + Σ W[:, ky, kx, :] · x[oy + d·ky, ox + d·kx, :] over every valid position,
    /// lowered a band of output rows at a time (im2col with dilation) into one GEMM per band.
    static func dilatedConvolution(_ x: [Float], height: Int, width: Int, channels: Int, kernelH: Int, kernelW: Int,
                                   dilation d: Int, weights: [Float], outChannels: Int, bias: [Float]?,
                                   pool: BufferPool = BufferPool()) -> ([Float], Int, Int) {
        let oh = height - d * (kernelH - 1), ow = width - d * (kernelW - 1)
        let k = kernelH * kernelW * channels
        if channels >= 16 && kernelH * kernelW > 1 {
            return shiftedConvolution(x, height: height, width: width, channels: channels, kernelH: kernelH, kernelW: kernelW,
                                      dilation: d, weights: weights, outChannels: outChannels, bias: bias, pool: pool)
        }
        var y = pool.take(oh * ow * outChannels)
        let rowsPerBand = max(1, min(oh, (1 << 22) / max(1, ow * k)))   // ≤ 16 MB of lowered input
        var col = pool.take(rowsPerBand * ow * k)
        defer { pool.give(col) }
        x.withUnsafeBufferPointer { xp in
            weights.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    col.withUnsafeMutableBufferPointer { cp in
                        var top = 0
                        while top < oh {
                            let rows = min(rowsPerBand, oh - top)
                            if kernelH == 1 && kernelW == 1 {
                                BLAS.sgemm(.none, .transpose, m: rows * ow, n: outChannels, k: channels,
                                           a: xp.baseAddress! + top * width * channels, lda: channels,
                                           b: wp.baseAddress!, ldb: channels,
                                           c: yp.baseAddress! + top * ow * outChannels, ldc: outChannels)
                            } else {
                                Profiler.time(.im2col) {
                                    for r in 0..<rows {
                                        for ox in 0..<ow {
                                            var dst = cp.baseAddress! + (r * ow + ox) * k
                                            for ky in 0..<kernelH {
                                                let src = xp.baseAddress! + ((top + r + d * ky) * width + ox) * channels
                                                for kx in 0..<kernelW {
                                                    dst.update(from: src + d * kx * channels, count: channels)
                                                    dst += channels
                                                }
                                            }
                                        }
                                    }
                                }
                                BLAS.sgemm(.none, .transpose, m: rows * ow, n: outChannels, k: k,
                                           a: cp.baseAddress!, lda: k, b: wp.baseAddress!, ldb: k,
                                           c: yp.baseAddress! + top * ow * outChannels, ldc: outChannels)
                            }
                            top += rows
                        }
                        if let bias {
                            for p in 0..<oh * ow { for o in 0..<outChannels { yp[p * outChannels + o] += bias[o] } }
                        }
                    }
                }
            }
        }
        return (y, oh, ow)
    }

    /// The same convolution without lowering: one GEMM per kernel tap over the whole image at full
    /// width (tap (ky, kx) reads the input shifted by (d·ky)·width + d·kx rows of channels), summed
    /// into a width-wide output whose last d·(kw − 1) columns of each row are then cut off. No
    /// im2col copy (9× the input for a 3×3 kernel); worth it once the channels fill a GEMM's depth.
    static func shiftedConvolution(_ x: [Float], height: Int, width: Int, channels: Int, kernelH: Int, kernelW: Int,
                                   dilation d: Int, weights: [Float], outChannels: Int, bias: [Float]?,
                                   pool: BufferPool) -> ([Float], Int, Int) {
        let oh = height - d * (kernelH - 1), ow = width - d * (kernelW - 1)
        let k = kernelH * kernelW * channels
        // Rows of the full-width output that every tap can read without running past the input.
        let rows = oh * width - d * (kernelW - 1)
        var full = pool.take(oh * width * outChannels)
        defer { pool.give(full) }
        var y = pool.take(oh * ow * outChannels)
        x.withUnsafeBufferPointer { xp in
            weights.withUnsafeBufferPointer { wp in
                full.withUnsafeMutableBufferPointer { fp in
                    // Bands of output rows keep the accumulated block in cache across the taps.
                    let band = max(width, (1 << 16) / max(1, outChannels) * 16)
                    var start = 0
                    while start < rows {
                        let m = min(band, rows - start)
                        for ky in 0..<kernelH {
                            for kx in 0..<kernelW {
                                let shift = (d * ky) * width + d * kx, tap = (ky * kernelW + kx) * channels
                                BLAS.sgemm(.none, .transpose, m: m, n: outChannels, k: channels,
                                           a: xp.baseAddress! + (start + shift) * channels, lda: channels,
                                           b: wp.baseAddress! + tap, ldb: k, beta: ky == 0 && kx == 0 ? 0 : 1,
                                           c: fp.baseAddress! + start * outChannels, ldc: outChannels)
                            }
                        }
                        start += m
                    }
                }
                y.withUnsafeMutableBufferPointer { yp in
                    full.withUnsafeBufferPointer { fp in
                        for oy in 0..<oh {
                            let src = fp.baseAddress! + oy * width * outChannels, dst = yp.baseAddress! + oy * ow * outChannels
                            dst.update(from: src, count: ow * outChannels)
                            if let bias {
                                for p in 0..<ow { for o in 0..<outChannels { dst[p * outChannels + o] += bias[o] } }
                            }
                        }
                    }
                }
            }
        }
        return (y, oh, ow)
    }

    /// max(x, 0) in place, 8 at a time (NaN stays NaN).
    static func relu(_ map: inout [Float]) {
        map.withUnsafeMutableBufferPointer { p in
            let n = p.count, base = p.baseAddress!
            var j = 0
            while j + 8 <= n {
                let v = UnsafeRawPointer(base + j).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(base + j).storeBytes(of: v.replacing(with: 0, where: v .< 0), as: SIMD8<Float>.self)
                j += 8
            }
            while j < n { if base[j] < 0 { base[j] = 0 }; j += 1 }
        }
    }

    /// Max or average over a kernel × kernel window read with dilation d, at every position.
    static func dilatedPool(_ x: [Float], height: Int, width: Int, channels: Int, kernel: Int, dilation d: Int, max isMax: Bool,
                            pool: BufferPool = BufferPool()) -> ([Float], Int, Int) {
        let oh = height - d * (kernel - 1), ow = width - d * (kernel - 1)
        var y = pool.take(oh * ow * channels)
        let inv = 1 / Float(kernel * kernel)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                let xp = xb.baseAddress!, yp = yb.baseAddress!
                for oy in 0..<oh {
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            // One output row against one kernel tap: ow × channels contiguous values.
                            let src = xp + ((oy + d * ky) * width + d * kx) * channels, dst = yp + oy * ow * channels
                            let n = ow * channels
                            if ky == 0 && kx == 0 {
                                dst.update(from: src, count: n)
                            } else if isMax {
                                // 8 at a time; NaN wins, as in the per-window max-pool.
                                var j = 0
                                while j + 8 <= n {
                                    let a = UnsafeRawPointer(src + j).loadUnaligned(as: SIMD8<Float>.self)
                                    let b = UnsafeRawPointer(dst + j).loadUnaligned(as: SIMD8<Float>.self)
                                    UnsafeMutableRawPointer(dst + j).storeBytes(of: b.replacing(with: a, where: (a .> b) .| (a .!= a)), as: SIMD8<Float>.self)
                                    j += 8
                                }
                                while j < n { if src[j] > dst[j] || src[j].isNaN { dst[j] = src[j] }; j += 1 }
                            } else {
                                for j in 0..<n { dst[j] += src[j] }
                            }
                        }
                    }
                    if !isMax { for j in 0..<ow * channels { yp[oy * ow * channels + j] *= inv } }
                }
            }
        }
        return (y, oh, ow)
    }

}

/// Per-layer `FFTCorrelation`s of one pass (a reference, so a `let` pass fills it on first use).
final class SpectraCache {
    private var built: [Int: FFTCorrelation] = [:]
    private let lock = NSLock()

    func get(_ layer: Int, _ make: () -> FFTCorrelation) -> FFTCorrelation {
        lock.lock(); defer { lock.unlock() }
        if let c = built[layer] { return c }
        let c = make()
        built[layer] = c
        return c
    }
}
