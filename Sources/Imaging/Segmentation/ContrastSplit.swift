import Foundation

/// Splits an object made of a bright nucleus touching a dim one (e.g. a compact non-NETotic
/// nucleus against a diffuse NETotic one). The distance transform cannot see that boundary when
/// the contact is broad; the intensity step can.
///
/// Within the object: Otsu on its own (corrected, smoothed) intensities separates a bright and a dim
/// class. If the bright class mean is at least `ratio` × the dim class mean, the bright pixels form
/// one seed, and every part of the dim remainder (away from the bright seed by `margin` px) that is
/// thick (distance-to-edge maximum ≥ `minThickness`) and large (≥ `minPartArea`) forms another seed.
/// A thin halo around a bright nucleus is therefore never split off, and a bright core nested inside a
/// dim nucleus is left alone (the bright part must make up ≥ 20% of the object's outline). With at least one dim seed the
/// object's pixels go to the geodesically nearest seed (breadth-first flood inside the object).
enum ContrastSplit {
    @discardableResult
    static func split(labels: inout [Int32], corrected: [Float], width: Int, label: Int32,
                      minX: Int, minY: Int, maxX: Int, maxY: Int,
                      ratio: Float, minPartArea: Int, minThickness: Float, margin: Int, minOutlineFraction: Float = 0.1,
                      nextLabel: inout Int32) -> Int {
        let cw = maxX - minX + 1, ch = maxY - minY + 1
        let n = cw * ch
        var inObj = [UInt8](repeating: 0, count: n)
        var values: [Float] = []
        for y in 0..<ch {
            let row = (y + minY) * width + minX
            for x in 0..<cw where labels[row + x] == label {
                inObj[y * cw + x] = 1; values.append(corrected[row + x])
            }
        }
        guard values.count >= 2 * minPartArea, let t = Threshold.compute(values, method: .otsu, bins: 256) else { return 1 }
        var sb = 0.0, nb = 0, sd = 0.0, nd = 0
        for v in values { if v > t { sb += Double(v); nb += 1 } else { sd += Double(v); nd += 1 } }
        guard nb >= minPartArea, nd >= minPartArea else { return 1 }
        let meanB = Float(sb / Double(nb)), meanD = Float(sd / Double(nd))
        guard meanD > 0, meanB >= ratio * meanD else { return 1 }

        // Bright seed, and the dim remainder kept `margin` px away from it.
        var bright = [UInt8](repeating: 0, count: n)
        for y in 0..<ch {
            let row = (y + minY) * width + minX
            for x in 0..<cw where inObj[y * cw + x] != 0 && corrected[row + x] > t { bright[y * cw + x] = 1 }
        }
        let grown = BinaryOps.morph(bright, width: cw, height: ch, radius: margin, dilate: true)
        // A bright core inside a dim halo (a NETotic nucleus with a brighter centre) is one nucleus:
        // split only when the bright part reaches the object's outline (side by side, not nested).
        var outline = 0, brightOutline = 0
        for y in 0..<ch {
            for x in 0..<cw where inObj[y * cw + x] != 0 {
                let edge = x == 0 || y == 0 || x == cw - 1 || y == ch - 1
                    || inObj[y * cw + x - 1] == 0 || inObj[y * cw + x + 1] == 0
                    || inObj[(y - 1) * cw + x] == 0 || inObj[(y + 1) * cw + x] == 0
                if edge { outline += 1; if grown[y * cw + x] != 0 { brightOutline += 1 } }
            }
        }
        guard outline > 0, Float(brightOutline) >= minOutlineFraction * Float(outline) else { return 1 }
        var dim = [UInt8](repeating: 0, count: n)
        for i in 0..<n where inObj[i] != 0 && grown[i] == 0 { dim[i] = 1 }
        let (dimLabels, dimCount) = BinaryOps.label(dim, width: cw, height: ch)
        guard dimCount > 0 else { return 1 }
        let d2 = Watershed.squaredEDT(dim, width: cw, height: ch)
        var area = [Int](repeating: 0, count: dimCount + 1)
        var thick = [Float](repeating: 0, count: dimCount + 1)
        for i in 0..<n where dimLabels[i] > 0 {
            let k = Int(dimLabels[i])
            area[k] += 1
            thick[k] = max(thick[k], d2[i])
        }
        // Seeds: 1 = bright; 2... = qualifying dim parts.
        var seed = [Int32](repeating: 0, count: n)
        for i in 0..<n where bright[i] != 0 { seed[i] = 1 }
        var seedOf = [Int32](repeating: 0, count: dimCount + 1)
        var seeds: Int32 = 1
        for k in 1...dimCount where area[k] >= minPartArea && thick[k] >= minThickness * minThickness {
            seeds += 1; seedOf[k] = seeds
        }
        guard seeds >= 2 else { return 1 }
        for i in 0..<n where dimLabels[i] > 0 && seedOf[Int(dimLabels[i])] > 0 { seed[i] = seedOf[Int(dimLabels[i])] }

        // Breadth-first flood of the object from all seeds (8-connected).
        var queue: [Int32] = []
        queue.reserveCapacity(n)
        for i in 0..<n where seed[i] > 0 { queue.append(Int32(i)) }
        var head = 0
        while head < queue.count {
            let i = Int(queue[head]); head += 1
            let x = i % cw, y = i / cw
            for dy in -1...1 {
                let yy = y + dy
                if yy < 0 || yy >= ch { continue }
                for dx in -1...1 {
                    let xx = x + dx
                    if xx < 0 || xx >= cw { continue }
                    let j = yy * cw + xx
                    if inObj[j] != 0 && seed[j] == 0 { seed[j] = seed[i]; queue.append(Int32(j)) }
                }
            }
        }
        // The bright seed keeps the original label; dim parts get new ones. Unreached pixels stay.
        var newLabel = [Int32](repeating: label, count: Int(seeds) + 1)
        for s in 2...Int(seeds) { newLabel[s] = nextLabel; nextLabel += 1 }
        for y in 0..<ch {
            let row = (y + minY) * width + minX
            for x in 0..<cw where inObj[y * cw + x] != 0 && seed[y * cw + x] > 0 {
                labels[row + x] = newLabel[Int(seed[y * cw + x])]
            }
        }
        return Int(seeds)
    }
}
