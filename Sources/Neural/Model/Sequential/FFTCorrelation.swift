import Foundation

/// A dilated correlation with a large kernel — the sliding-window form of `flatten` + `dense`, a
/// 10×10×64 → 256 kernel read with dilation 2 for the PL counter's stage 1 — done in the frequency
/// domain. Direct, it costs kh·kw·c·out multiply-adds per output (95 % of the whole pass); here:
///
/// 1. Polyphase: outputs whose row and column are ≡ (py, px) mod d read only inputs ≡ (py, px), so
///    each of the d² phases is an undilated correlation on a sub-image.
/// 2. Overlap-save tiles: an output tile of B×B needs a T×T input block (T = B + k − 1, a power of
///    two); inside it circular correlation equals linear correlation.
/// 3. Per tile and channel a real 2-D FFT (T × (T/2+1) bins); per bin the tiles × channels matrix
///    times the kernel's channels × outputs spectrum is a complex GEMM (four real sgemm calls over a
///    chunk of tiles); inverse FFT per tile and output.
///
/// Float arithmetic throughout, twiddles from Double: the sums are reordered, not approximated
/// (≤ 1e-5 relative to per-window forwards, `SlidingWindowPassTests`).
struct FFTCorrelation {
    let kernelH: Int, kernelW: Int, channels: Int, outChannels: Int, dilation: Int
    /// FFT side and the output tile side it gives.
    let side: Int, tile: Int
    let fft: FFT
    /// Kernel spectrum per bin, [bins][channels][outChannels]: real part and the negated imaginary
    /// part (correlation multiplies by the conjugate).
    let kernelRe: [Float], kernelIm: [Float]
    let bias: [Float]?
    var bins: Int { side * (side / 2 + 1) }

    /// Whether the frequency domain pays for a kernel this size (and fits a 64-point FFT).
    static func worthwhile(kernelH: Int, kernelW: Int) -> Bool { kernelH * kernelW >= 25 && max(kernelH, kernelW) <= 32 }

    /// - Parameter weights: [out, kh, kw, c] (im2col order, as `dilatedConvolution` takes them).
    init(weights: [Float], outChannels: Int, kernelH: Int, kernelW: Int, channels: Int, dilation: Int, bias: [Float]?) {
        self.kernelH = kernelH; self.kernelW = kernelW; self.channels = channels; self.outChannels = outChannels
        self.dilation = dilation; self.bias = bias
        var t = 16
        while t < 2 * max(kernelH, kernelW) { t *= 2 }
        side = t
        tile = t - max(kernelH, kernelW) + 1
        fft = FFT(size: t)
        let half = t / 2 + 1, bins = t * half
        var re = [Float](repeating: 0, count: bins * channels * outChannels), im = re
        let blockRe = UnsafeMutablePointer<Lanes>.allocate(capacity: t * t), blockIm = UnsafeMutablePointer<Lanes>.allocate(capacity: t * t)
        defer { blockRe.deallocate(); blockIm.deallocate() }
        let lanes = Lanes.scalarCount
        for o in 0..<outChannels {
            for ch0 in stride(from: 0, to: channels, by: lanes) {
                let n = min(lanes, channels - ch0)
                for i in 0..<t * t { blockRe[i] = Lanes(repeating: 0) }
                for ky in 0..<kernelH { for kx in 0..<kernelW {
                    var v = Lanes(repeating: 0)
                    for l in 0..<n { v[l] = weights[((o * kernelH + ky) * kernelW + kx) * channels + ch0 + l] }
                    blockRe[ky * t + kx] = v
                } }
                fft.forward2D(blockRe, blockIm)
                for f in 0..<bins {
                    let (u, v) = (f / half, f % half)
                    for l in 0..<n {
                        re[(f * channels + ch0 + l) * outChannels + o] = blockRe[u * t + v][l]
                        im[(f * channels + ch0 + l) * outChannels + o] = -blockIm[u * t + v][l]
                    }
                }
            }
        }
        kernelRe = re; kernelIm = im
    }

    /// y[oy, ox, :] = bias + Σ W[:, ky, kx, :] · x[oy + d·ky, ox + d·kx, :] for a channels-last map.
    func callAsFunction(_ x: [Float], height: Int, width: Int, pool: BufferPool = BufferPool()) -> ([Float], Int, Int) {
        let d = dilation, c = channels, out = outChannels, t = side, b = tile, half = t / 2 + 1
        let oh = height - d * (kernelH - 1), ow = width - d * (kernelW - 1)
        var y = pool.take(max(0, oh * ow * out))
        guard oh > 0, ow > 0 else { return (y, max(0, oh), max(0, ow)) }
        // Every tile: phase, and the tile's first output row / column in the phase's sub-grid.
        var tiles: [(py: Int, px: Int, ty: Int, tx: Int)] = []
        for py in 0..<min(d, oh) { for px in 0..<min(d, ow) {
            let rows = (oh - py + d - 1) / d, cols = (ow - px + d - 1) / d
            for ty in stride(from: 0, to: rows, by: b) { for tx in stride(from: 0, to: cols, by: b) { tiles.append((py, px, ty, tx)) } }
        } }
        let bins = self.bins, chunk = 64, lanes = Lanes.scalarCount
        var inRe = pool.take(bins * chunk * c), inIm = pool.take(bins * chunk * c)
        var outRe = pool.take(bins * chunk * out), outIm = pool.take(bins * chunk * out)
        defer { for buffer in [inRe, inIm, outRe, outIm] { pool.give(buffer) } }
        let blockRe = UnsafeMutablePointer<Lanes>.allocate(capacity: t * t), blockIm = UnsafeMutablePointer<Lanes>.allocate(capacity: t * t)
        let lineRe = UnsafeMutablePointer<Lanes>.allocate(capacity: t), lineIm = UnsafeMutablePointer<Lanes>.allocate(capacity: t)
        defer { blockRe.deallocate(); blockIm.deallocate(); lineRe.deallocate(); lineIm.deallocate() }
        let scale = 1 / Float(t * t)
        x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
        for first in stride(from: 0, to: tiles.count, by: chunk) {
            let m = min(chunk, tiles.count - first)
            // Forward: each tile's input block, 8 channels at a time (one per SIMD lane), into [tile][bin][channel].
            Profiler.time(.im2col) {
                inRe.withUnsafeMutableBufferPointer { xr in inIm.withUnsafeMutableBufferPointer { xi in
                    for (j, tl) in tiles[first..<first + m].enumerated() {
                        for ch0 in stride(from: 0, to: c, by: lanes) {
                            let n = min(lanes, c - ch0)
                            for i in 0..<t {
                                let sy = tl.py + d * (tl.ty + i)
                                for k in 0..<t {
                                    let sx = tl.px + d * (tl.tx + k)
                                    var v = Lanes(repeating: 0)
                                    if sy < height && sx < width {
                                        let src = (sy * width + sx) * c + ch0
                                        if n == lanes { v = UnsafeRawPointer(xp.baseAddress! + src).loadUnaligned(as: Lanes.self) }
                                        else { for l in 0..<n { v[l] = xp[src + l] } }
                                    }
                                    blockRe[i * t + k] = v
                                }
                            }
                            fft.forward2D(blockRe, blockIm)
                            for f in 0..<bins {
                                let (u, v) = (f / half, f % half), dst = (j * bins + f) * c + ch0
                                for l in 0..<n { xr[dst + l] = blockRe[u * t + v][l]; xi[dst + l] = blockIm[u * t + v][l] }
                            }
                        }
                    }
                } }
            }
            // Per bin: (Xr + iXi)(Kr + iKi) = (XrKr − XiKi) + i(XrKi + XiKr).
            inRe.withUnsafeBufferPointer { xr in inIm.withUnsafeBufferPointer { xi in
            kernelRe.withUnsafeBufferPointer { kr in kernelIm.withUnsafeBufferPointer { ki in
            outRe.withUnsafeMutableBufferPointer { yr in outIm.withUnsafeMutableBufferPointer { yi in
                for f in 0..<bins {
                    // Tile j's spectra are rows bins·c (input) and bins·out (output) apart: [tile][bin][channel].
                    let a = f * c, k = f * c * out, o = f * out, lda = bins * c, ldc = bins * out
                    BLAS.sgemm(m: m, n: out, k: c, a: xr.baseAddress! + a, lda: lda, b: kr.baseAddress! + k, c: yr.baseAddress! + o, ldc: ldc)
                    BLAS.sgemm(m: m, n: out, k: c, alpha: -1, a: xi.baseAddress! + a, lda: lda, b: ki.baseAddress! + k, beta: 1,
                               c: yr.baseAddress! + o, ldc: ldc)
                    BLAS.sgemm(m: m, n: out, k: c, a: xr.baseAddress! + a, lda: lda, b: ki.baseAddress! + k, c: yi.baseAddress! + o, ldc: ldc)
                    BLAS.sgemm(m: m, n: out, k: c, a: xi.baseAddress! + a, lda: lda, b: kr.baseAddress! + k, beta: 1,
                               c: yi.baseAddress! + o, ldc: ldc)
                }
            } } } } } }
            // Inverse: each tile's output block, 8 outputs at a time; the valid B×B corner is the result.
            Profiler.time(.im2col) {
                outRe.withUnsafeBufferPointer { zr in outIm.withUnsafeBufferPointer { zi in
                    for (j, tl) in tiles[first..<first + m].enumerated() {
                        let rows = min(b, (oh - tl.py + d - 1) / d - tl.ty), cols = min(b, (ow - tl.px + d - 1) / d - tl.tx)
                        for o0 in stride(from: 0, to: out, by: lanes) {
                            let n = min(lanes, out - o0)
                            for f in 0..<bins {
                                let (u, v) = (f / half, f % half), src = (j * bins + f) * out + o0
                                if n == lanes {
                                    blockRe[u * t + v] = UnsafeRawPointer(zr.baseAddress! + src).loadUnaligned(as: Lanes.self)
                                    blockIm[u * t + v] = UnsafeRawPointer(zi.baseAddress! + src).loadUnaligned(as: Lanes.self)
                                } else {
                                    var re = Lanes(repeating: 0), im = Lanes(repeating: 0)
                                    for l in 0..<n { re[l] = zr[src + l]; im[l] = zi[src + l] }
                                    blockRe[u * t + v] = re; blockIm[u * t + v] = im
                                }
                            }
                            fft.inverse2D(blockRe, blockIm, lineRe, lineIm, rows: rows)
                            var add = Lanes(repeating: 0)
                            if let bias { for l in 0..<n { add[l] = bias[o0 + l] } }
                            for i in 0..<rows {
                                let oy = tl.py + d * (tl.ty + i)
                                for k in 0..<cols {
                                    let ox = tl.px + d * (tl.tx + k)
                                    let value = blockRe[i * t + k] * scale + add, dst = (oy * ow + ox) * out + o0
                                    if n == lanes { UnsafeMutableRawPointer(yp.baseAddress! + dst).storeBytes(of: value, as: Lanes.self) }
                                    else { for l in 0..<n { yp[dst + l] = value[l] } }
                                }
                            }
                        }
                    }
                } }
            }
        }
        } }
        return (y, oh, ow)
    }
}

typealias Lanes = SIMD8<Float>

/// Radix-2 complex FFT of one power-of-two size on split real / imaginary arrays, and the 2-D real
/// transforms built from it (a T×T real block ↔ its T × (T/2+1) half spectrum, bin u·(T/2+1) + v).
struct FFT {
    let size: Int
    let cosines: [Float], sines: [Float]
    let reversed: [Int]

    init(size n: Int) {
        precondition(n >= 2 && n & (n - 1) == 0, "FFT size \(n) is not a power of two")
        size = n
        cosines = (0..<n / 2).map { Float(cos(2 * Double.pi * Double($0) / Double(n))) }
        sines = (0..<n / 2).map { Float(sin(2 * Double.pi * Double($0) / Double(n))) }
        var bits = 0
        while 1 << bits < n { bits += 1 }
        reversed = (0..<n).map { i in (0..<bits).reduce(0) { $0 | ((i >> $1) & 1) << (bits - 1 - $1) } }
    }

    /// In place over `n` values `stride` apart: X[k] = Σ x[j] e^{∓2πi jk/n} (− forward, + inverse; unscaled).
    /// Each lane is an independent transform.
    @inline(__always)
    func transform(_ re: UnsafeMutablePointer<Lanes>, _ im: UnsafeMutablePointer<Lanes>, stride s: Int, inverse: Bool) {
        let n = size
        for i in 0..<n {
            let j = reversed[i]
            if j > i { swap(&re[i * s], &re[j * s]); swap(&im[i * s], &im[j * s]) }
        }
        let sign: Float = inverse ? 1 : -1
        var length = 2
        while length <= n {
            let halfLength = length / 2, step = n / length
            for k in 0..<halfLength {
                let wr = Lanes(repeating: cosines[k * step]), wi = Lanes(repeating: sign * sines[k * step])
                var a = k
                while a < n {
                    let b = a + halfLength
                    let br = re[b * s], bi = im[b * s]
                    let tr = br * wr - bi * wi, ti = br * wi + bi * wr
                    let ar = re[a * s], ai = im[a * s]
                    re[b * s] = ar - tr; im[b * s] = ai - ti
                    re[a * s] = ar + tr; im[a * s] = ai + ti
                    a += length
                }
            }
            length *= 2
        }
    }

    /// A real T×T block (row-major in `re`) → its half spectrum in place: bin (u, v), v ≤ T/2, at u·T + v.
    func forward2D(_ re: UnsafeMutablePointer<Lanes>, _ im: UnsafeMutablePointer<Lanes>) {
        let t = size, half = t / 2 + 1
        for i in 0..<t * t { im[i] = Lanes(repeating: 0) }
        // Rows: a real row's spectrum is Hermitian, so columns 0…T/2 hold all of it.
        for u in 0..<t { transform(re + u * t, im + u * t, stride: 1, inverse: false) }
        for v in 0..<half { transform(re + v, im + v, stride: t, inverse: false) }
    }

    /// T² times the real T×T block whose half spectrum (as `forward2D` leaves it) is given, in place
    /// into `re`; only the first `rows` rows are computed.
    func inverse2D(_ re: UnsafeMutablePointer<Lanes>, _ im: UnsafeMutablePointer<Lanes>,
                   _ lineRe: UnsafeMutablePointer<Lanes>, _ lineIm: UnsafeMutablePointer<Lanes>, rows: Int) {
        let t = size, half = t / 2 + 1
        for v in 0..<half { transform(re + v, im + v, stride: t, inverse: true) }
        for u in 0..<rows {
            // The result is real: the missing columns are the conjugates of their mirrors.
            for v in 0..<half { lineRe[v] = re[u * t + v]; lineIm[v] = im[u * t + v] }
            for v in half..<t { lineRe[v] = re[u * t + t - v]; lineIm[v] = -im[u * t + t - v] }
            transform(lineRe, lineIm, stride: 1, inverse: true)
            for k in 0..<t { re[u * t + k] = lineRe[k] }
        }
    }
}
