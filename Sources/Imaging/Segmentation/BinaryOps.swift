import Foundation

/// Binary mask operations on flat row-major [UInt8] masks (0 / 1).
enum BinaryOps {
    /// Half-widths of a digital disk of radius r: row dy spans x ± w[dy + r].
    static func diskHalfWidths(_ r: Int) -> [Int] {
        (-r...r).map { dy in Int((Double(r * r - dy * dy) + 0.25).squareRoot().rounded(.down)) }
    }

    /// Erosion (isMax false) or dilation (isMax true) with a disk of radius r.
    /// Decomposed into rows: for each row offset, a horizontal run test of the disk's half-width,
    /// computed in O(1) per pixel from distances to the nearest 0 (erosion) or 1 (dilation) in the row.
    /// Outside the image counts as background for dilation and as foreground for erosion
    /// (so objects at the border are not eaten away).
    static func morph(_ mask: [UInt8], width: Int, height: Int, radius r: Int, dilate: Bool) -> [UInt8] {
        guard r > 0 else { return mask }
        let hw = diskHalfWidths(r)
        let n = width * height
        // For each pixel: horizontal distance to the nearest "target" pixel in its row
        // (target = 0 for erosion, 1 for dilation); outside the row = infinitely far.
        // Distances are capped at 255 (radius ≤ 20 is enforced by the config), so one byte each.
        var dist = [UInt8](repeating: 0, count: n)
        let target: UInt8 = dilate ? 1 : 0
        mask.withUnsafeBufferPointer { m in
            dist.withUnsafeMutableBufferPointer { d in
                for y in 0..<height {
                    let b = y * width
                    var run = 255
                    for x in 0..<width {
                        run = m[b + x] == target ? 0 : min(run + 1, 255)
                        d[b + x] = UInt8(run)
                    }
                    run = 255
                    var x = width - 1
                    while x >= 0 {
                        run = m[b + x] == target ? 0 : min(run + 1, 255)
                        if UInt8(run) < d[b + x] { d[b + x] = UInt8(run) }
                        x -= 1
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: n)
        dist.withUnsafeBufferPointer { d in
            out.withUnsafeMutableBufferPointer { o in
                for y in 0..<height {
                    let ob = y * width
                    if dilate {
                        for x in 0..<width { o[ob + x] = 0 }
                        for j in 0...(2 * r) {
                            let yy = y + j - r
                            if yy < 0 || yy >= height { continue }
                            let w = UInt8(hw[j]), db = yy * width
                            for x in 0..<width { o[ob + x] |= d[db + x] <= w ? 1 : 0 }
                        }
                    } else {
                        for x in 0..<width { o[ob + x] = 1 }
                        for j in 0...(2 * r) {
                            let yy = y + j - r
                            if yy < 0 || yy >= height { continue }
                            let w = UInt8(hw[j]), db = yy * width
                            for x in 0..<width { o[ob + x] &= d[db + x] > w ? 1 : 0 }
                        }
                    }
                }
            }
        }
        return out
    }

    static func open(_ m: [UInt8], width: Int, height: Int, radius: Int) -> [UInt8] {
        guard radius > 0 else { return m }
        return morph(morph(m, width: width, height: height, radius: radius, dilate: false),
                     width: width, height: height, radius: radius, dilate: true)
    }

    static func close(_ m: [UInt8], width: Int, height: Int, radius: Int) -> [UInt8] {
        guard radius > 0 else { return m }
        return morph(morph(m, width: width, height: height, radius: radius, dilate: true),
                     width: width, height: height, radius: radius, dilate: false)
    }

    /// Fills background regions (4-connected) that do not reach the image border.
    /// Scanline flood fill of the outside from every border pixel: one pass over each background run.
    static func fillHoles(_ mask: inout [UInt8], width: Int, height: Int) {
        let n = width * height
        guard n > 0 else { return }
        // 0 = foreground, 1 = background not yet reached, 2 = outside (reached from the border).
        var state = [UInt8](repeating: 0, count: n)
        mask.withUnsafeBufferPointer { m in
            state.withUnsafeMutableBufferPointer { st in
                for i in 0..<n { st[i] = m[i] == 0 ? 1 : 0 }
                var stack: [(Int, Int)] = []
                stack.reserveCapacity(1024)
                func push(_ x: Int, _ y: Int) { if st[y * width + x] == 1 { stack.append((x, y)) } }
                for x in 0..<width { push(x, 0); push(x, height - 1) }
                for y in 0..<height { push(0, y); push(width - 1, y) }
                while let (sx, y) = stack.popLast() {
                    let row = y * width
                    if st[row + sx] != 1 { continue }
                    var l = sx, r = sx
                    while l > 0 && st[row + l - 1] == 1 { l -= 1 }
                    while r < width - 1 && st[row + r + 1] == 1 { r += 1 }
                    for x in l...r { st[row + x] = 2 }
                    for ny in stride(from: y - 1, through: y + 1, by: 2) where ny >= 0 && ny < height {
                        let nrow = ny * width
                        var x = l
                        while x <= r {
                            if st[nrow + x] == 1 {
                                stack.append((x, ny))
                                while x <= r && st[nrow + x] == 1 { x += 1 }
                            } else {
                                x += 1
                            }
                        }
                    }
                }
            }
        }
        mask.withUnsafeMutableBufferPointer { m in
            state.withUnsafeBufferPointer { st in
                for i in 0..<n where st[i] == 1 { m[i] = 1 }
            }
        }
    }

    /// 8-connected component labelling (two-pass, union-find). Returns labels 1...count in raster order
    /// of first appearance, and the count.
    static func label(_ mask: [UInt8], width: Int, height: Int) -> (labels: [Int32], count: Int) {
        let n = width * height
        var labels = [Int32](repeating: 0, count: n)
        var parent: [Int32] = [0]
        parent.reserveCapacity(4096)
        @inline(__always) func find(_ a: Int32) -> Int32 {
            var a = a
            while parent[Int(a)] != a { parent[Int(a)] = parent[Int(parent[Int(a)])]; a = parent[Int(a)] }
            return a
        }
        @inline(__always) func union(_ a: Int32, _ b: Int32) -> Int32 {
            let ra = find(a), rb = find(b)
            if ra == rb { return ra }
            if ra < rb { parent[Int(rb)] = ra; return ra }
            parent[Int(ra)] = rb; return rb
        }
        mask.withUnsafeBufferPointer { m in
            labels.withUnsafeMutableBufferPointer { l in
                for y in 0..<height {
                    let b = y * width
                    for x in 0..<width where m[b + x] != 0 {
                        var cur: Int32 = 0
                        // Already-visited 8-neighbours: W, NW, N, NE.
                        if x > 0, l[b + x - 1] != 0 { cur = l[b + x - 1] }
                        if y > 0 {
                            let up = b - width
                            if x > 0, l[up + x - 1] != 0 { cur = cur == 0 ? l[up + x - 1] : union(cur, l[up + x - 1]) }
                            if l[up + x] != 0 { cur = cur == 0 ? l[up + x] : union(cur, l[up + x]) }
                            if x < width - 1, l[up + x + 1] != 0 { cur = cur == 0 ? l[up + x + 1] : union(cur, l[up + x + 1]) }
                        }
                        if cur == 0 {
                            cur = Int32(parent.count)
                            parent.append(cur)
                        }
                        l[b + x] = cur
                    }
                }
            }
        }
        // Compact roots to 1...count in order of first appearance.
        var remap = [Int32](repeating: 0, count: parent.count)
        var next: Int32 = 0
        labels.withUnsafeMutableBufferPointer { l in
            for i in 0..<n where l[i] != 0 {
                let r = Int(find(l[i]))
                if remap[r] == 0 { next += 1; remap[r] = next }
                l[i] = remap[r]
            }
        }
        return (labels, Int(next))
    }
}
