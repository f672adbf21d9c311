import Foundation

/// Splitting of touching nuclei inside one connected component: exact Euclidean distance transform,
/// then a marker watershed on −distance whose markers are the h-maxima of the distance
/// (maxima that rise at least `h` pixels above the saddle to a higher maximum). Implemented as one
/// descending flood with union–find: basins merge at a saddle unless both are persistent.
enum Watershed {
    /// Exact squared Euclidean distance to the nearest background pixel (Felzenszwalb–Huttenlocher),
    /// for a w × h binary crop; pixels outside the crop count as background.
    static func squaredEDT(_ mask: [UInt8], width w: Int, height h: Int) -> [Float] {
        let inf: Float = 1e20
        var f = [Float](repeating: 0, count: w * h)
        for i in 0..<(w * h) { f[i] = mask[i] != 0 ? inf : 0 }
        let n = max(w, h) + 2
        var line = [Float](repeating: 0, count: n), out = line, z = [Float](repeating: 0, count: n + 1)
        var v = [Int](repeating: 0, count: n)
        // 1-D transform of `count` samples with background padding on both ends (so crop edges are background).
        func pass(_ count: Int) {
            // Pad: index 0 and count+1 are background (0).
            let m = count + 2
            var k = 0
            v[0] = 0; z[0] = -inf; z[1] = inf
            for q in 1..<m {
                let fq: Float = (q == 0 || q == m - 1) ? 0 : line[q - 1]
                if fq >= inf { continue }  // no parabola from an unreached sample
                var s: Float
                repeat {
                    let p = v[k]
                    let fp: Float = (p == 0 || p == m - 1) ? 0 : line[p - 1]
                    s = ((fq + Float(q * q)) - (fp + Float(p * p))) / Float(2 * q - 2 * p)
                    if s <= z[k] { k -= 1 } else { break }
                } while k >= 0
                k += 1
                v[k] = q; z[k] = s; z[k + 1] = inf
            }
            k = 0
            for q in 1...count {
                while z[k + 1] < Float(q) { k += 1 }
                let p = v[k]
                let fp: Float = (p == 0 || p == m - 1) ? 0 : line[p - 1]
                out[q - 1] = Float((q - p) * (q - p)) + fp
            }
        }
        for x in 0..<w {
            for y in 0..<h { line[y] = f[y * w + x] }
            pass(h)
            for y in 0..<h { f[y * w + x] = out[y] }
        }
        for y in 0..<h {
            for x in 0..<w { line[x] = f[y * w + x] }
            pass(w)
            for x in 0..<w { f[y * w + x] = out[x] }
        }
        return f
    }

    /// Splits the component `label` (whose bounding box is given) in place: pixels of split-off parts
    /// get new labels from `nextLabel`, which is advanced. Returns the number of parts (≥ 1).
    @discardableResult
    static func split(labels: inout [Int32], width: Int, label: Int32,
                      minX: Int, minY: Int, maxX: Int, maxY: Int,
                      h: Float, minPartArea: Int, intensity: [Float]? = nil, intensityWeight: Float = 0,
                      nextLabel: inout Int32) -> Int {
        let cw = maxX - minX + 1, ch = maxY - minY + 1
        if cw < 3 || ch < 3 { return 1 }
        var mask = [UInt8](repeating: 0, count: cw * ch)
        var pixels: [Int32] = []
        for y in 0..<ch {
            let row = (y + minY) * width + minX
            for x in 0..<cw where labels[row + x] == label {
                mask[y * cw + x] = 1; pixels.append(Int32(y * cw + x))
            }
        }
        let d2 = squaredEDT(mask, width: cw, height: ch)
        var d = [Float](repeating: 0, count: cw * ch)
        for i in 0..<d.count { d[i] = d2[i].squareRoot() }
        if let intensity, intensityWeight > 0 {
            // Shape × intensity landscape: distance scaled by (intensity / component maximum)^weight,
            // so a dim gap between two nuclei deepens the saddle.
            var top: Float = 0
            for p in pixels { let i = Int(p); top = max(top, intensity[(i / cw + minY) * width + minX + i % cw]) }
            if top > 0 {
                for p in pixels {
                    let i = Int(p)
                    let v = max(intensity[(i / cw + minY) * width + minX + i % cw], 0) / top
                    d[i] *= intensityWeight == 1 ? v : (v > 0 ? Foundation.exp(intensityWeight * Foundation.log(v)) : 0)
                }
            }
        }
        // Descending distance, ties by index: sort packed keys (d ≥ 0, so its bit pattern orders like d).
        var keys = [UInt64](repeating: 0, count: pixels.count)
        for (k, p) in pixels.enumerated() {
            keys[k] = UInt64(~d[Int(p)].bitPattern) << 32 | UInt64(UInt32(bitPattern: p))
        }
        keys.sort()
        for k in 0..<keys.count { pixels[k] = Int32(bitPattern: UInt32(truncatingIfNeeded: keys[k])) }

        var parent = [Int32](repeating: -1, count: cw * ch)  // -1 = not yet flooded
        var peak = [Float](repeating: 0, count: cw * ch)
        var area = [Int32](repeating: 0, count: cw * ch)
        func find(_ a: Int32) -> Int32 {
            var a = a
            while parent[Int(a)] != a { parent[Int(a)] = parent[Int(parent[Int(a)])]; a = parent[Int(a)] }
            return a
        }
        var roots: [Int32] = []
        for p in pixels {
            let i = Int(p), x = i % cw, y = i / cw
            // The flooded neighbour with the largest distance decides where p drains (steepest ascent).
            var best: Int32 = -1, bestD: Float = -1
            roots.removeAll(keepingCapacity: true)
            for dy in -1...1 {
                let yy = y + dy
                if yy < 0 || yy >= ch { continue }
                for dx in -1...1 where dx != 0 || dy != 0 {
                    let xx = x + dx
                    if xx < 0 || xx >= cw { continue }
                    let j = yy * cw + xx
                    if parent[j] < 0 { continue }
                    let r = find(Int32(j))
                    if !roots.contains(r) { roots.append(r) }
                    if d[j] > bestD { bestD = d[j]; best = r }
                }
            }
            if best < 0 {
                parent[i] = p; peak[i] = d[i]; area[i] = 1
                continue
            }
            var main = best
            for r in roots where r != main {
                // Merge the lower basin into the higher unless both are persistent maxima.
                let low = min(peak[Int(r)], peak[Int(main)])
                let small = min(area[Int(r)], area[Int(main)])
                if low - d[i] < h || Int(small) < minPartArea {
                    let (keep, drop) = peak[Int(r)] > peak[Int(main)] ? (r, main) : (main, r)
                    parent[Int(drop)] = keep
                    area[Int(keep)] += area[Int(drop)]
                    main = find(best)
                }
            }
            parent[i] = main
            area[Int(main)] += 1
        }
        // Assign labels: the root holding the most pixels keeps the original label.
        var rootIDs: [Int32: Int32] = [:]
        var rootCounts: [Int32: Int] = [:]
        for p in pixels { rootCounts[find(p), default: 0] += 1 }
        if rootCounts.count <= 1 { return 1 }
        let ordered = rootCounts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        for (k, entry) in ordered.enumerated() {
            if k == 0 { rootIDs[entry.key] = label } else { rootIDs[entry.key] = nextLabel; nextLabel += 1 }
        }
        for p in pixels {
            let i = Int(p)
            labels[(i / cw + minY) * width + minX + i % cw] = rootIDs[find(p)]!
        }
        return ordered.count
    }
}
