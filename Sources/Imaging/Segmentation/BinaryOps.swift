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
        var dist = [Int32](repeating: 0, count: n)
        let target: UInt8 = dilate ? 1 : 0
        let far = Int32.max / 4
        mask.withUnsafeBufferPointer { m in
            dist.withUnsafeMutableBufferPointer { d in
                for y in 0..<height {
                    let b = y * width
                    var last = -far
                    for x in 0..<width {
                        if m[b + x] == target { last = Int32(x) }
                        d[b + x] = Int32(x) - last
                    }
                    last = far * 2
                    var x = width - 1
                    while x >= 0 {
                        if m[b + x] == target { last = Int32(x) }
                        let v = last - Int32(x)
                        if v < d[b + x] { d[b + x] = v }
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
                            let w = Int32(hw[j]), db = yy * width
                            for x in 0..<width where d[db + x] <= w { o[ob + x] = 1 }
                        }
                    } else {
                        for x in 0..<width { o[ob + x] = 1 }
                        for j in 0...(2 * r) {
                            let yy = y + j - r
                            if yy < 0 || yy >= height { continue }
                            let w = Int32(hw[j]), db = yy * width
                            for x in 0..<width where d[db + x] <= w { o[ob + x] = 0 }
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
    static func fillHoles(_ mask: inout [UInt8], width: Int, height: Int) {
        let n = width * height
        var outside = [UInt8](repeating: 0, count: n)
        var stack: [Int32] = []
        stack.reserveCapacity(1024)
        mask.withUnsafeBufferPointer { m in
            outside.withUnsafeMutableBufferPointer { o in
                func seed(_ i: Int) { if m[i] == 0 && o[i] == 0 { o[i] = 1; stack.append(Int32(i)) } }
                for x in 0..<width { seed(x); seed((height - 1) * width + x) }
                for y in 0..<height { seed(y * width); seed(y * width + width - 1) }
                while let p = stack.popLast() {
                    let i = Int(p), x = i % width, y = i / width
                    if x > 0 { seed(i - 1) }
                    if x < width - 1 { seed(i + 1) }
                    if y > 0 { seed(i - width) }
                    if y < height - 1 { seed(i + width) }
                }
            }
        }
        mask.withUnsafeMutableBufferPointer { m in
            outside.withUnsafeBufferPointer { o in
                for i in 0..<n where o[i] == 0 { m[i] = 1 }
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
