import Foundation

/// Global automatic thresholds computed on a histogram of the (float) image.
enum Threshold {
    static let bins = 4096

    /// Histogram over [lo, hi] with `bins` bins; returns counts and the bin → value mapping.
    struct Histogram {
        var counts: [Double]
        var lo: Float
        var step: Float
        /// Value at the upper edge of bin i (pixels > value(i) are "above bin i").
        func value(_ i: Int) -> Float { lo + step * Float(i + 1) }
    }

    static func histogram(_ values: [Float], bins: Int = Threshold.bins) -> Histogram? {
        guard var lo = values.first else { return nil }
        var hi = lo
        values.withUnsafeBufferPointer { v in
            for x in v { if x < lo { lo = x }; if x > hi { hi = x } }
        }
        guard hi > lo else { return nil }
        let step = (hi - lo) / Float(bins)
        var counts = [Double](repeating: 0, count: bins)
        let scale = 1 / step
        values.withUnsafeBufferPointer { v in
            counts.withUnsafeMutableBufferPointer { c in
                for x in v { c[min(Int((x - lo) * scale), bins - 1)] += 1 }
            }
        }
        return Histogram(counts: counts, lo: lo, step: step)
    }

    /// Returns the threshold value: foreground is value > threshold. Nil if the image is flat.
    static func compute(_ values: [Float], method: SegmentationConfig.ThresholdMethod, bins: Int = Threshold.bins) -> Float? {
        guard let h = histogram(values, bins: bins) else { return nil }
        let i: Int
        switch method {
        case .otsu: i = otsu(h.counts)
        case .isodata: i = isodata(h.counts)
        case .triangle: i = triangle(h.counts)
        }
        return h.value(i)
    }

    /// Otsu: the bin maximising between-class variance; foreground = bins > i.
    static func otsu(_ c: [Double]) -> Int {
        let total = c.reduce(0, +)
        var sumAll = 0.0
        for (i, n) in c.enumerated() { sumAll += Double(i) * n }
        var wB = 0.0, sumB = 0.0, best = -1.0, bestI = 0
        for i in 0..<(c.count - 1) {
            wB += c[i]; sumB += Double(i) * c[i]
            let wF = total - wB
            if wB == 0 { continue }
            if wF == 0 { break }
            let mB = sumB / wB, mF = (sumAll - sumB) / wF
            let between = wB * wF * (mB - mF) * (mB - mF)
            if between > best { best = between; bestI = i }
        }
        return bestI
    }

    /// Ridler–Calvard isodata: t = midpoint of the two class means, iterated to a fixed point.
    static func isodata(_ c: [Double]) -> Int {
        var t = otsu(c)
        for _ in 0..<100 {
            var w0 = 0.0, s0 = 0.0, w1 = 0.0, s1 = 0.0
            for i in 0..<c.count {
                if i <= t { w0 += c[i]; s0 += Double(i) * c[i] } else { w1 += c[i]; s1 += Double(i) * c[i] }
            }
            guard w0 > 0, w1 > 0 else { break }
            let next = Int(((s0 / w0 + s1 / w1) / 2).rounded(.down))
            if next == t { break }
            t = next
        }
        return min(max(t, 0), c.count - 2)
    }

    /// Zack's triangle method: line from the histogram peak to the far end of the longer tail;
    /// the threshold is the bin farthest below that line.
    static func triangle(_ c: [Double]) -> Int {
        guard let first = c.firstIndex(where: { $0 > 0 }), let last = c.lastIndex(where: { $0 > 0 }) else { return 0 }
        var peak = first
        for i in first...last where c[i] > c[peak] { peak = i }
        let flip = (peak - first) > (last - peak)  // longer tail on the left: mirror
        let a = flip ? last : peak, b = flip ? first : last
        let step = flip ? -1 : 1
        let x1 = Double(a), y1 = c[a], x2 = Double(b), y2 = 0.0
        var best = -Double.infinity, bestI = a
        var i = a
        while i != b {
            // Distance (up to a constant) from (i, c[i]) below the line.
            let d = (y2 - y1) * Double(i) - (x2 - x1) * c[i] + x2 * y1 - y2 * x1
            let dist = flip ? -d : d
            if dist > best { best = dist; bestI = i }
            i += step
        }
        return min(max(bestI, 0), c.count - 2)
    }
}
