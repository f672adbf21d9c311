import Foundation

/// Per-object measurements from a label image.
enum ObjectStats {
    /// Measures labels 1...count. Intensities come from `image` (raw pixel values).
    static func measure(labels: [Int32], count: Int, image: GrayImage) -> [Nucleus] {
        let w = image.width, h = image.height
        guard count > 0 else { return [] }
        var area = [Int](repeating: 0, count: count + 1)
        var sx = [Double](repeating: 0, count: count + 1), sy = sx, sxx = sx, syy = sx, sxy = sx, si = sx
        var mx = [Double](repeating: 0, count: count + 1)
        var minX = [Int](repeating: Int.max, count: count + 1), minY = minX
        var maxX = [Int](repeating: Int.min, count: count + 1), maxY = maxX
        // Hull corner points from each horizontal run's ends.
        var corners = [[(Int, Int)]](repeating: [], count: count + 1)
        labels.withUnsafeBufferPointer { l in
            image.pixels.withUnsafeBufferPointer { px in
                for y in 0..<h {
                    let b = y * w
                    var x = 0
                    while x < w {
                        let k = Int(l[b + x])
                        if k == 0 { x += 1; continue }
                        let start = x
                        var n = 0, rx = 0.0, rxx = 0.0, ri = 0.0, rmax = 0.0
                        while x < w && Int(l[b + x]) == k {
                            let v = Double(px[b + x])
                            n += 1; rx += Double(x); rxx += Double(x * x); ri += v
                            if v > rmax { rmax = v }
                            x += 1
                        }
                        let fy = Double(y)
                        area[k] += n; sx[k] += rx; sxx[k] += rxx; sy[k] += fy * Double(n)
                        syy[k] += fy * fy * Double(n); sxy[k] += fy * rx; si[k] += ri
                        if rmax > mx[k] { mx[k] = rmax }
                        if start < minX[k] { minX[k] = start }
                        if x - 1 > maxX[k] { maxX[k] = x - 1 }
                        if y < minY[k] { minY[k] = y }
                        if y > maxY[k] { maxY[k] = y }
                        corners[k].append((start, y)); corners[k].append((start, y + 1))
                        corners[k].append((x, y)); corners[k].append((x, y + 1))
                    }
                }
            }
        }
        var nuclei: [Nucleus] = []
        nuclei.reserveCapacity(count)
        for k in 1...count where area[k] > 0 {
            let a = Double(area[k])
            let cx = sx[k] / a, cy = sy[k] / a
            // Central second moments (pixel centres), as in regionprops.
            let mu20 = sxx[k] / a - cx * cx, mu02 = syy[k] / a - cy * cy, mu11 = sxy[k] / a - cx * cy
            let common = ((mu20 - mu02) * (mu20 - mu02) / 4 + mu11 * mu11).squareRoot()
            let l1 = (mu20 + mu02) / 2 + common, l2 = (mu20 + mu02) / 2 - common
            let ecc = l1 > 0 ? max(0, 1 - max(l2, 0) / l1).squareRoot() : 0
            let hull = hullArea(&corners[k])
            nuclei.append(Nucleus(label: k, centroidX: cx, centroidY: cy,
                                  minX: minX[k], minY: minY[k], maxX: maxX[k], maxY: maxY[k],
                                  area: area[k], meanIntensity: si[k] / a, maxIntensity: mx[k],
                                  solidity: hull > 0 ? min(1, a / hull) : 1, eccentricity: ecc))
        }
        return nuclei
    }

    /// Area of the convex hull of the points (monotone chain + shoelace).
    static func hullArea(_ pts: inout [(Int, Int)]) -> Double {
        pts.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        guard pts.count >= 3 else { return 0 }
        func cross(_ o: (Int, Int), _ a: (Int, Int), _ b: (Int, Int)) -> Int {
            (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
        }
        var hull: [(Int, Int)] = []
        hull.reserveCapacity(pts.count + 1)
        for p in pts {
            while hull.count >= 2 && cross(hull[hull.count - 2], hull[hull.count - 1], p) <= 0 { hull.removeLast() }
            hull.append(p)
        }
        let lower = hull.count + 1
        for p in pts.reversed().dropFirst() {
            while hull.count >= lower && cross(hull[hull.count - 2], hull[hull.count - 1], p) <= 0 { hull.removeLast() }
            hull.append(p)
        }
        hull.removeLast()
        var s = 0
        for i in 0..<hull.count {
            let a = hull[i], b = hull[(i + 1) % hull.count]
            s += a.0 * b.1 - b.0 * a.1
        }
        return Double(abs(s)) / 2
    }
}
