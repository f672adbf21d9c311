import Foundation

/// Finds nuclei in a fluorescence image (bright objects on a dark background).
///
/// Pipeline (each step configurable, see `SegmentationConfig` and docs/segmentation.md):
/// background correction → Gaussian smoothing → global threshold (Otsu / isodata / triangle)
/// with optional hysteresis → disk opening and closing → hole filling → small-object removal →
/// optional watershed split of touching nuclei (distance × intensity landscape, h-maxima markers) →
/// optional bright/dim split → size filter → optional clear-border → per-object measurements on
/// the raw pixels.
public struct Segmenter: Sendable {
    public let config: SegmentationConfig

    public init(config: SegmentationConfig = .standard) {
        self.config = config
    }

    /// Intermediate images, for diagnostics and tests.
    public struct Stages: Sendable {
        /// Background-corrected, smoothed image the threshold is applied to.
        public var corrected: [Float]
        /// The threshold on `corrected` (nil: flat image, nothing found).
        public var threshold: Float?
        /// Foreground mask after threshold/hysteresis, morphology and hole filling.
        public var mask: [UInt8]
    }

    public func segment(_ image: GrayImage) -> Segmentation {
        segmentWithStages(image).segmentation
    }

    public func segmentWithStages(_ image: GrayImage) -> (segmentation: Segmentation, stages: Stages) {
        let w = image.width, h = image.height, n = w * h
        let c = config
        var f = Filters.toFloat(image)
        if c.background != .none {
            Self.subtractBackground(&f, width: w, height: h, method: c.background, radius: c.backgroundRadius)
        }
        if c.smoothingSigma > 0 { Filters.gaussianInPlace(&f, width: w, height: h, sigma: c.smoothingSigma) }

        guard let t0 = Threshold.compute(f, method: c.threshold) else {
            return (Segmentation(width: w, height: h, labels: [Int32](repeating: 0, count: n), nuclei: []),
                    Stages(corrected: f, threshold: nil, mask: [UInt8](repeating: 0, count: n)))
        }
        let t = t0 * Float(c.thresholdScale)
        var mask = [UInt8](repeating: 0, count: n)
        f.withUnsafeBufferPointer { p in
            mask.withUnsafeMutableBufferPointer { m in
                for i in 0..<n { m[i] = p[i] > t ? 1 : 0 }
            }
        }
        if c.hysteresisLow < 1 {
            // The low threshold sits between the background level (mean of the pixels below the
            // threshold) and the threshold, so it means the same with or without background correction.
            var sum = 0.0, cnt = 0
            f.withUnsafeBufferPointer { p in for v in p where v <= t { sum += Double(v); cnt += 1 } }
            let base = cnt > 0 ? Float(sum / Double(cnt)) : 0
            let low = base + (t - base) * Float(c.hysteresisLow)
            mask = Self.hysteresis(f, strong: mask, width: w, height: h, low: low)
        }
        mask = BinaryOps.open(mask, width: w, height: h, radius: c.openingRadius)
        mask = BinaryOps.close(mask, width: w, height: h, radius: c.closingRadius)
        if c.fillHoles { BinaryOps.fillHoles(&mask, width: w, height: h) }

        var (labels, count) = BinaryOps.label(mask, width: w, height: h)
        // Bounding boxes and areas of the components.
        let components = ComponentExtents(labels: labels, width: w, height: h, labelCount: count)
        let area = components.area
        var keep = [Bool](repeating: true, count: count + 1)
        keep[0] = false
        for k in stride(from: 1, through: count, by: 1) where area[k] < c.minArea { keep[k] = false }
        var next = Int32(count + 1)
        if c.watershed {
            for k in stride(from: 1, through: count, by: 1) where keep[k] && area[k] >= 2 * max(c.minObjectArea, 1) {
                Watershed.split(labels: &labels, width: w, label: Int32(k),
                                minX: components.minX[k], minY: components.minY[k],
                                maxX: components.maxX[k], maxY: components.maxY[k],
                                h: Float(c.watershedH), minPartArea: max(c.minObjectArea, 1),
                                intensity: f, intensityWeight: Float(c.watershedIntensityWeight),
                                nextLabel: &next)
            }
        }
        if c.contrastRatio >= 1 {
            // Bounding boxes of the (possibly split) objects, then the bright/dim split.
            let m = Int(next)
            let parts = ComponentExtents(labels: labels, width: w, height: h, labelCount: m - 1)
            let minPart = max(c.minObjectArea, 1)
            for k in 1..<m where parts.area[k] >= 2 * minPart && (k > count || keep[k]) {
                ContrastSplit.split(labels: &labels, corrected: f, width: w, label: Int32(k),
                                    minX: parts.minX[k], minY: parts.minY[k], maxX: parts.maxX[k], maxY: parts.maxY[k],
                                    ratio: Float(c.contrastRatio), minPartArea: minPart,
                                    minThickness: Float(c.contrastMinThickness), margin: 2, nextLabel: &next)
            }
        }
        let total = Int(next) - 1
        // Final filter on the split objects: size, border; then relabel 1...m in raster order.
        let final = ComponentExtents(labels: labels, width: w, height: h, labelCount: total)
        let finalArea = final.area, touches = final.touchesBorder
        var parentOK = [Bool](repeating: true, count: total + 1)
        for k in stride(from: 1, through: count, by: 1) { parentOK[k] = keep[k] }
        // Split parts (labels > count) inherit keep from their source; they only exist for kept components.
        var remap = [Int32](repeating: 0, count: total + 1)
        var m: Int32 = 0
        labels.withUnsafeMutableBufferPointer { l in
            for i in 0..<n {
                let k = Int(l[i])
                if k == 0 { continue }
                if remap[k] == 0 {
                    let ok = parentOK[k] && finalArea[k] >= c.minObjectArea
                        && (c.maxObjectArea == 0 || finalArea[k] <= c.maxObjectArea)
                        && !(c.clearBorder && touches[k])
                    if ok { m += 1; remap[k] = m } else { remap[k] = -1 }
                }
                l[i] = max(remap[k], 0)
            }
        }
        let nuclei = ObjectStats.measure(labels: labels, count: Int(m), image: image)
        return (Segmentation(width: w, height: h, labels: labels, nuclei: nuclei),
                Stages(corrected: f, threshold: t, mask: mask))
    }

    /// Keeps weak pixels (> low) that are 8-connected to a strong pixel: labels the components of the
    /// weak mask and keeps those holding a strong pixel.
    static func hysteresis(_ f: [Float], strong: [UInt8], width w: Int, height h: Int, low: Float) -> [UInt8] {
        let n = w * h
        var weak = [UInt8](repeating: 0, count: n)
        f.withUnsafeBufferPointer { p in
            strong.withUnsafeBufferPointer { s in
                weak.withUnsafeMutableBufferPointer { o in
                    for i in 0..<n { o[i] = (p[i] > low || s[i] != 0) ? 1 : 0 }
                }
            }
        }
        let (labels, count) = BinaryOps.label(weak, width: w, height: h)
        var anchored = [Bool](repeating: false, count: count + 1)
        labels.withUnsafeBufferPointer { l in
            strong.withUnsafeBufferPointer { s in
                for i in 0..<n where s[i] != 0 { anchored[Int(l[i])] = true }
            }
        }
        anchored[0] = false
        labels.withUnsafeBufferPointer { l in
            weak.withUnsafeMutableBufferPointer { o in
                for i in 0..<n { o[i] = anchored[Int(l[i])] ? 1 : 0 }
            }
        }
        return weak
    }

    /// Subtracts the slowly varying background (clamping at 0).
    /// The estimate is made on a block-mean downsampled copy (factor ≈ radius/8), so its cost is small,
    /// and bilinearly upsampled on the fly while subtracting.
    static func subtractBackground(_ f: inout [Float], width w: Int, height h: Int,
                                   method: SegmentationConfig.Background, radius: Double) {
        let factor = max(1, Int(radius / 8))
        let small = Filters.downsample(f, width: w, height: h, factor: factor)
        let r = max(1, Int((radius / Double(factor)).rounded()))
        let bg: [Float]
        switch method {
        case .none:
            return
        case .blur:
            // Clip bright outliers (nuclei) at the local blur level before blurring, so they
            // do not lift the background: two rounds of blur → clip → final blur.
            var s = small.pixels
            for _ in 0..<2 {
                let b = Filters.gaussian(s, width: small.width, height: small.height, sigma: Double(r) / 2)
                for i in 0..<s.count { s[i] = min(s[i], b[i]) }
            }
            bg = Filters.gaussian(s, width: small.width, height: small.height, sigma: Double(r) / 2)
        case .rollingBall:
            // Grey opening with a square of radius r: removes every bright structure narrower than
            // the window, then a box mean of the same size smooths the plateaus.
            let eroded = Filters.squareExtreme(small.pixels, width: small.width, height: small.height, radius: r, isMax: false)
            let opened = Filters.squareExtreme(eroded, width: small.width, height: small.height, radius: r, isMax: true)
            bg = Filters.boxMean(opened, width: small.width, height: small.height, radius: r)
        }
        Filters.subtractUpsampled(from: &f, bg, width: small.width, height: small.height, factor: factor,
                                  toWidth: w, height: h, clampAtZero: true)
    }
}
