import Foundation

/// Float image kernels used by the segmenter. Images are flat row-major [Float] of width × height.
/// Edges are handled by clamping (replicate), which keeps blurs unbiased at borders.
enum Filters {
    /// Converts pixels to Float.
    static func toFloat(_ image: GrayImage) -> [Float] {
        [Float](unsafeUninitializedCapacity: image.pixels.count) { out, n in
            image.pixels.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = Float(src[i]) }
            }
            n = image.pixels.count
        }
    }

    /// Separable Gaussian blur, kernel radius ceil(3σ); σ ≤ 0 returns the input.
    static func gaussian(_ src: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        var out = src
        gaussianInPlace(&out, width: width, height: height, sigma: sigma)
        return out
    }

    /// In-place separable Gaussian blur (no image-sized temporaries): rows through a padded row
    /// buffer, then columns in blocks of 64 through a strip buffer.
    static func gaussianInPlace(_ f: inout [Float], width: Int, height: Int, sigma: Double) {
        guard sigma > 0, width > 0, height > 0 else { return }
        let r = max(1, Int((3 * sigma).rounded(.up)))
        var k = [Float](repeating: 0, count: 2 * r + 1)
        var sum: Float = 0
        for i in -r...r {
            let v = Float(exp(-Double(i * i) / (2 * sigma * sigma)))
            k[i + r] = v; sum += v
        }
        for i in k.indices { k[i] /= sum }
        let block = 64
        var row = [Float](repeating: 0, count: width + 2 * r)
        var strip = [Float](repeating: 0, count: (height + 2 * r) * block)
        f.withUnsafeMutableBufferPointer { s in
            row.withUnsafeMutableBufferPointer { p in
                k.withUnsafeBufferPointer { kk in
                    for y in 0..<height {
                        let base = y * width
                        for x in 0..<width { p[x + r] = s[base + x] }
                        for i in 0..<r { p[i] = s[base]; p[width + r + i] = s[base + width - 1] }
                        for x in 0..<width {
                            var acc: Float = 0
                            for j in 0...(2 * r) { acc += kk[j] * p[x + j] }
                            s[base + x] = acc
                        }
                    }
                }
            }
            strip.withUnsafeMutableBufferPointer { b in
                k.withUnsafeBufferPointer { kk in
                    var x0 = 0
                    while x0 < width {
                        let bw = min(block, width - x0)
                        // Strip rows -r..<height+r (clamped), bw columns wide.
                        for yy in 0..<(height + 2 * r) {
                            let src = min(max(yy - r, 0), height - 1) * width + x0
                            let dst = yy * bw
                            for i in 0..<bw { b[dst + i] = s[src + i] }
                        }
                        for y in 0..<height {
                            let o = y * width + x0
                            for i in 0..<bw { s[o + i] = 0 }
                            for j in 0...(2 * r) {
                                let w = kk[j], src = (y + j) * bw
                                for i in 0..<bw { s[o + i] += w * b[src + i] }
                            }
                        }
                        x0 += bw
                    }
                }
            }
        }
    }

    /// Box mean over a (2r+1)² window, clamped edges, O(N) via running sums.
    static func boxMean(_ src: [Float], width: Int, height: Int, radius r: Int) -> [Float] {
        guard r > 0 else { return src }
        var tmp = [Float](repeating: 0, count: src.count)
        var out = [Float](repeating: 0, count: src.count)
        let inv = 1 / Float(2 * r + 1)
        src.withUnsafeBufferPointer { s in
            tmp.withUnsafeMutableBufferPointer { t in
                for y in 0..<height {
                    let b = y * width
                    var acc: Float = 0
                    for j in -r...r { acc += s[b + min(max(j, 0), width - 1)] }
                    for x in 0..<width {
                        t[b + x] = acc * inv
                        acc += s[b + min(x + r + 1, width - 1)] - s[b + max(x - r, 0)]
                    }
                }
            }
        }
        tmp.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in
                var acc = [Float](repeating: 0, count: width)
                for j in -r...r {
                    let b = min(max(j, 0), height - 1) * width
                    for x in 0..<width { acc[x] += t[b + x] }
                }
                for y in 0..<height {
                    let ob = y * width
                    let add = min(y + r + 1, height - 1) * width, sub = max(y - r, 0) * width
                    for x in 0..<width {
                        o[ob + x] = acc[x] * inv
                        acc[x] += t[add + x] - t[sub + x]
                    }
                }
            }
        }
        return out
    }

    /// 1-D running min or max (van Herk / Gil–Werman), window 2r+1, clamped edges.
    private static func runningExtreme(_ line: UnsafeMutableBufferPointer<Float>, count n: Int, radius r: Int,
                                       isMax: Bool, g: UnsafeMutableBufferPointer<Float>,
                                       h: UnsafeMutableBufferPointer<Float>, padded: UnsafeMutableBufferPointer<Float>) {
        let w = 2 * r + 1
        let m = n + 2 * r
        let total = ((m + w - 1) / w) * w
        for i in 0..<total {
            let src = i - r
            padded[i] = src < 0 ? line[0] : (src >= n ? line[n - 1] : line[src])
        }
        @inline(__always) func pick(_ a: Float, _ b: Float) -> Float { isMax ? max(a, b) : min(a, b) }
        var start = 0
        while start < total {
            g[start] = padded[start]
            for i in (start + 1)..<(start + w) { g[i] = pick(g[i - 1], padded[i]) }
            h[start + w - 1] = padded[start + w - 1]
            var i = start + w - 2
            while i >= start { h[i] = pick(h[i + 1], padded[i]); i -= 1 }
            start += w
        }
        for x in 0..<n { line[x] = pick(h[x], g[x + w - 1]) }
    }

    /// Square min (erosion) or max (dilation) filter of radius r, O(N) per pass.
    static func squareExtreme(_ src: [Float], width: Int, height: Int, radius r: Int, isMax: Bool) -> [Float] {
        guard r > 0 else { return src }
        var out = src
        let cap = ((max(width, height) + 4 * r + 2) / (2 * r + 1) + 2) * (2 * r + 1)
        var g = [Float](repeating: 0, count: cap), h = g, padded = g
        var line = [Float](repeating: 0, count: max(width, height))
        g.withUnsafeMutableBufferPointer { gp in h.withUnsafeMutableBufferPointer { hp in
        padded.withUnsafeMutableBufferPointer { pp in line.withUnsafeMutableBufferPointer { lp in
        out.withUnsafeMutableBufferPointer { o in
            for y in 0..<height {
                for x in 0..<width { lp[x] = o[y * width + x] }
                runningExtreme(lp, count: width, radius: r, isMax: isMax, g: gp, h: hp, padded: pp)
                for x in 0..<width { o[y * width + x] = lp[x] }
            }
            for x in 0..<width {
                for y in 0..<height { lp[y] = o[y * width + x] }
                runningExtreme(lp, count: height, radius: r, isMax: isMax, g: gp, h: hp, padded: pp)
                for y in 0..<height { o[y * width + x] = lp[y] }
            }
        }}}}}
        return out
    }

    /// Shrinks by an integer factor (block mean); the last partial blocks average what they have.
    static func downsample(_ src: [Float], width: Int, height: Int, factor f: Int) -> (pixels: [Float], width: Int, height: Int) {
        let w = (width + f - 1) / f, h = (height + f - 1) / f
        var sum = [Float](repeating: 0, count: w * h)
        var cnt = [Float](repeating: 0, count: w * h)
        src.withUnsafeBufferPointer { s in
            for y in 0..<height {
                let by = (y / f) * w
                for x in 0..<width { sum[by + x / f] += s[y * width + x]; cnt[by + x / f] += 1 }
            }
        }
        for i in 0..<sum.count { sum[i] /= cnt[i] }
        return (sum, w, h)
    }

    /// out −= bilinear upsampling of a block-mean downsampled image (block centres as nodes), optionally
    /// clamped at 0, without materialising the upsampled image.
    static func subtractUpsampled(from out: inout [Float], _ small: [Float], width w: Int, height h: Int, factor f: Int,
                                  toWidth width: Int, height: Int, clampAtZero: Bool = false) {
        let ff = Float(f)
        var x0s = [Int](repeating: 0, count: width), x1s = x0s
        var fx = [Float](repeating: 0, count: width)
        for x in 0..<width {
            let sx = min(max((Float(x) + 0.5) / ff - 0.5, 0), Float(w - 1))
            let i0 = Int(sx)
            x0s[x] = i0; x1s[x] = min(i0 + 1, w - 1); fx[x] = sx - Float(i0)
        }
        small.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for y in 0..<height {
                    let sy = min(max((Float(y) + 0.5) / ff - 0.5, 0), Float(h - 1))
                    let j0 = Int(sy), j1 = min(j0 + 1, h - 1)
                    let fy = sy - Float(j0)
                    let r0 = j0 * w, r1 = j1 * w
                    for x in 0..<width {
                        let a = s[r0 + x0s[x]] + (s[r0 + x1s[x]] - s[r0 + x0s[x]]) * fx[x]
                        let b = s[r1 + x0s[x]] + (s[r1 + x1s[x]] - s[r1 + x0s[x]]) * fx[x]
                        let v = o[y * width + x] - (a + (b - a) * fy)
                        o[y * width + x] = clampAtZero ? max(v, 0) : v
                    }
                }
            }
        }
    }
}
