import Foundation

/// Winograd F(4×4, 3×3) for stride-1, padding-1 3×3 convolutions (Lavin & Gray 2016): each 4×4
/// output tile is A^T [(G g G^T) ⊙ (B^T d B)] A over the 6×6 input tile d around it, so the
/// 36 multiplications per (tile, in, out) of the im2col GEMM become 36 GEMMs of (tiles × in) ·
/// (in × out) with 16 outputs each: 4× fewer multiplications, no 9× im2col copy. Transforms run
/// on channels-last pixels, 16 channels at a time. `WinogradTests` checks it against im2col.
struct Winograd {
    static let tile = 4, window = 6, positions = 36

    /// Transformed kernel U[ξ][out][in] (ξ = 6·i + j), recomputed when the weights change.
    private(set) var transformed: [Float] = []
    private var transformedFrom: [Float] = []
    var allocatedFloats: Int { transformed.count + transformedFrom.count }

    /// Tiles of an image of this output size.
    static func tiles(height: Int, width: Int) -> Int { ((height + 3) / 4) * ((width + 3) / 4) }

    /// Scratch floats for `tiles` tiles: V (36 × tiles × in) then M (36 × tiles × out).
    static func scratchFloats(tiles: Int, inChannels: Int, outChannels: Int) -> Int {
        positions * tiles * (inChannels + outChannels)
    }

    /// y = conv(x) with the prepared kernel: per chunk of images, the input transform, 36 GEMMs
    /// (one per position of the 6×6 transformed tile: tiles × in · in × out), the output transform.
    /// `accumulate` adds to y instead of overwriting it.
    func convolve(x: UnsafePointer<Float>, ldx: Int, inChannels cin: Int, batch: Int, height: Int, width: Int,
                  imagesPerChunk: Int, y: UnsafeMutablePointer<Float>, ldy: Int, outChannels cout: Int,
                  accumulate: Bool, col: FloatBuffer, affine: InputAffine?) {
        let perImage = Winograd.tiles(height: height, width: width)
        let scratch = col.reserve(Winograd.scratchFloats(tiles: imagesPerChunk * perImage, inChannels: cin, outChannels: cout))
        transformed.withUnsafeBufferPointer { u in
            var start = 0
            while start < batch {
                let count = min(imagesPerChunk, batch - start)
                let tiles = count * perImage
                let v = scratch, m = scratch + Winograd.positions * tiles * cin
                Profiler.time(.winograd) {
                    Winograd.transformInput(x + start * height * width * ldx, ldx: ldx, channels: cin, images: count,
                                            height: height, width: width, affine: affine, v: v)
                }
                Profiler.time(.convKxK) {
                    for xi in 0..<Winograd.positions {
                        BLAS.sgemm(.none, .transpose, m: tiles, n: cout, k: cin,
                                   a: v + xi * tiles * cin, lda: cin, b: u.baseAddress! + xi * cout * cin, ldb: cin,
                                   c: m + xi * tiles * cout, ldc: cout)
                    }
                }
                Profiler.time(.winograd) {
                    Winograd.transformOutput(m, channels: cout, images: count, height: height, width: width,
                                             y: y + start * height * width * ldy, ldy: ldy, accumulate: accumulate)
                }
                start += count
            }
        }
    }

    // MARK: kernel transform  u = G g G^T

    /// Refreshes U from weights stored [out, 3, 3, in] (vectorised over `in`).
    mutating func prepare(weights w: [Float], inChannels cin: Int, outChannels cout: Int) {
        if transformedFrom == w { return }
        transformedFrom = w
        if transformed.count != Winograd.positions * cout * cin {
            transformed = [Float](repeating: 0, count: Winograd.positions * cout * cin)
        }
        let plane = cout * cin
        w.withUnsafeBufferPointer { w in
            transformed.withUnsafeMutableBufferPointer { u in
                withUnsafeTemporaryAllocation(of: Vec.self, capacity: 9 + 18) { scratch in
                    let w = w.baseAddress!, u = u.baseAddress!, g = scratch.baseAddress!, t = g + 9
                    for co in 0..<cout {
                        var c = 0
                        while c < cin {
                            let n = min(16, cin - c)
                            for k in 0..<9 { g[k] = loadPartial(w + (co * 9 + k) * cin + c, n) }
                            // t = G g (6 × 3), by columns of g; then u = t G^T (6 × 6), by rows of t.
                            for kx in 0..<3 { Winograd.kernelColumn(g[kx], g[3 + kx], g[6 + kx], into: t + kx, stride: 3) }
                            for i in 0..<6 {
                                let target = u + i * 6 * plane + co * cin + c
                                Winograd.kernelColumn(t[i * 3], t[i * 3 + 1], t[i * 3 + 2]) { j, value in
                                    storePartial(value, target + j * plane, n)
                                }
                            }
                            c += 16
                        }
                    }
                }
            }
        }
    }

    /// G · (g0, g1, g2) for G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1].
    @inline(__always)
    private static func kernelColumn(_ g0: Vec, _ g1: Vec, _ g2: Vec, _ emit: (Int, Vec) -> Void) {
        let a = (g0 + g2) * (-1 / 6 as Float), b = g1 * (1 / 6 as Float)
        let c = g0 * (1 / 24 as Float) + g2 * (1 / 6 as Float), d = g1 * (1 / 12 as Float)
        emit(0, g0 * 0.25); emit(1, a - b); emit(2, a + b); emit(3, c + d); emit(4, c - d); emit(5, g2)
    }

    @inline(__always)
    private static func kernelColumn(_ g0: Vec, _ g1: Vec, _ g2: Vec, into out: UnsafeMutablePointer<Vec>, stride s: Int) {
        kernelColumn(g0, g1, g2) { i, value in out[i * s] = value }
    }

    // MARK: input transform  v = B^T d B

    /// Writes V[ξ][tile][in] for the tiles of `images` images (pixel stride ldx, `cin` channels
    /// used), applying `affine` (BatchNorm+ReLU) to every pixel read; outside the image is zero.
    static func transformInput(_ x: UnsafePointer<Float>, ldx: Int, channels cin: Int, images: Int,
                               height: Int, width: Int, affine: InputAffine?, v: UnsafeMutablePointer<Float>) {
        let tilesH = (height + 3) / 4, tilesW = (width + 3) / 4
        let total = images * tilesH * tilesW
        let plane = total * cin
        Parallel.ranges(total, minimumPerThread: 16) { range in
            withUnsafeTemporaryAllocation(of: Vec.self, capacity: 36) { scratch in
                let t = scratch.baseAddress!
                for tileIndex in range {
                    let image = tileIndex / (tilesH * tilesW), r = tileIndex % (tilesH * tilesW)
                    let y0 = (r / tilesW) * 4 - 1, x0 = (r % tilesW) * 4 - 1
                    let xImage = x + image * height * width * ldx
                    var c = 0
                    while c < cin {
                        let n = min(16, cin - c)
                        let scale = affine.map { loadPartial($0.scale + c, n) }
                        let shift = affine.map { loadPartial($0.shift + c, n) }
                        @inline(__always) func pixel(_ iy: Int, _ ix: Int) -> Vec {
                            guard iy >= 0 && iy < height && ix >= 0 && ix < width else { return Vec() }
                            let value = loadPartial(xImage + (iy * width + ix) * ldx + c, n)
                            guard let scale, let shift else { return value }
                            return pointwiseMax(value * scale + shift, Vec())
                        }
                        // t = B^T d, column by column.
                        for j in 0..<6 {
                            let ix = x0 + j
                            inputColumn(pixel(y0, ix), pixel(y0 + 1, ix), pixel(y0 + 2, ix),
                                        pixel(y0 + 3, ix), pixel(y0 + 4, ix), pixel(y0 + 5, ix), into: t + j, stride: 6)
                        }
                        // v = t B, row by row, stored at V[6i + j][tile][c].
                        withUnsafeTemporaryAllocation(of: Vec.self, capacity: 6) { row in
                            let row = row.baseAddress!
                            for i in 0..<6 {
                                let s = t + i * 6
                                inputColumn(s[0], s[1], s[2], s[3], s[4], s[5], into: row, stride: 1)
                                for j in 0..<6 { storePartial(row[j], v + (i * 6 + j) * plane + tileIndex * cin + c, n) }
                            }
                        }
                        c += 16
                    }
                }
            }
        }
    }

    /// B^T · (d0…d5) for B^T = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0;
    /// 0 2 −1 −2 1 0; 0 4 0 −5 0 1].
    @inline(__always)
    private static func inputColumn(_ d0: Vec, _ d1: Vec, _ d2: Vec, _ d3: Vec, _ d4: Vec, _ d5: Vec,
                                    into out: UnsafeMutablePointer<Vec>, stride s: Int) {
        let a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1)
        out[0] = 4 * d0 - 5 * d2 + d4
        out[s] = a + b
        out[2 * s] = a - b
        out[3 * s] = c + e
        out[4 * s] = c - e
        out[5 * s] = 4 * d1 - 5 * d3 + d5
    }

    // MARK: output transform  y = A^T m A

    /// Reads M[ξ][tile][out] and writes the 4×4 output pixels of every tile that fall inside the
    /// image into y (pixel stride ldy, first `cout` channels; overwritten, or added to when `accumulate`).
    static func transformOutput(_ m: UnsafePointer<Float>, channels cout: Int, images: Int, height: Int, width: Int,
                                y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        let tilesH = (height + 3) / 4, tilesW = (width + 3) / 4
        let total = images * tilesH * tilesW
        let plane = total * cout
        Parallel.ranges(total, minimumPerThread: 16) { range in
            withUnsafeTemporaryAllocation(of: Vec.self, capacity: 24 + 4) { scratch in
                let s = scratch.baseAddress!, row = s + 24
                for tileIndex in range {
                    let image = tileIndex / (tilesH * tilesW), r = tileIndex % (tilesH * tilesW)
                    let y0 = (r / tilesW) * 4, x0 = (r % tilesW) * 4
                    let yImage = y + image * height * width * ldy
                    var c = 0
                    while c < cout {
                        let n = min(16, cout - c)
                        @inline(__always) func at(_ xi: Int) -> Vec { loadPartial(m + xi * plane + tileIndex * cout + c, n) }
                        // s = A^T m (4 × 6), column by column.
                        for j in 0..<6 {
                            outputColumn(at(j), at(6 + j), at(12 + j), at(18 + j), at(24 + j), at(30 + j),
                                         into: s + j, stride: 6)
                        }
                        for i in 0..<4 where y0 + i < height {
                            let a = s + i * 6
                            outputColumn(a[0], a[1], a[2], a[3], a[4], a[5], into: row, stride: 1)
                            for j in 0..<4 where x0 + j < width {
                                let target = yImage + ((y0 + i) * width + x0 + j) * ldy + c
                                storePartial(accumulate ? row[j] + loadPartial(target, n) : row[j], target, n)
                            }
                        }
                        c += 16
                    }
                }
            }
        }
    }

    /// A^T · (m0…m5) for A^T = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
    @inline(__always)
    private static func outputColumn(_ m0: Vec, _ m1: Vec, _ m2: Vec, _ m3: Vec, _ m4: Vec, _ m5: Vec,
                                     into out: UnsafeMutablePointer<Vec>, stride s: Int) {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        out[0] = m0 + a + c
        out[s] = b + 2 * d
        out[2 * s] = a + 4 * c
        out[3 * s] = b + 8 * d + m5
    }
}
