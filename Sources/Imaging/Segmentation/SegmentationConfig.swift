import Foundation
import Storage
import Yams

/// Parameters of the nucleus segmentation (config/segmentation.yaml). Lengths are in pixels.
/// `standard` is identical to the shipped config file, so the library works without it.
/// A YAML file may give any subset of keys; the rest keep their defaults. Unknown keys are an error
/// (a misspelt key must not be silently ignored).
public struct SegmentationConfig: Codable, Sendable, Equatable {
    public enum Background: String, Codable, Sendable, CaseIterable, ConfigChoice {
        /// No correction.
        case none
        /// Subtract a large-scale Gaussian blur of the image (nuclei are first clipped so they do not lift it).
        case blur
        /// Subtract a rolling-ball-like estimate: grey opening (min then max filter) at `backgroundRadius`, smoothed.
        case rollingBall = "rolling-ball"
    }

    public enum ThresholdMethod: String, Codable, Sendable, CaseIterable, ConfigChoice {
        case otsu, isodata, triangle
    }

    /// Background correction method and its length scale (about 2–3 nucleus diameters).
    public var background: Background = .rollingBall
    public var backgroundRadius: Double = 40
    /// Gaussian pre-smoothing sigma (0 = none); suppresses shot noise before thresholding.
    public var smoothingSigma: Double = 1.0
    /// Global threshold method, applied to the background-corrected, smoothed image.
    public var threshold: ThresholdMethod = .otsu
    /// Multiplies the automatic threshold (1 = as computed).
    public var thresholdScale: Double = 1.0
    /// Hysteresis: pixels above `hysteresisLow` × threshold are kept when 8-connected to a pixel
    /// above the threshold. Recovers dim, diffuse nuclei whose cores pass the threshold. 1 disables it.
    public var hysteresisLow: Double = 0.7
    /// Morphological opening and closing radii (disk elements; 0 = skip).
    public var openingRadius: Int = 2
    public var closingRadius: Int = 0
    /// Fill holes inside objects.
    public var fillHoles: Bool = true
    /// Objects smaller than this (pixels) are removed before splitting.
    public var minArea: Int = 20
    /// Final size filter: objects outside [minObjectArea, maxObjectArea] are dropped (maxObjectArea 0 = no limit).
    public var minObjectArea: Int = 20
    public var maxObjectArea: Int = 0
    /// Drop objects touching the image border.
    public var clearBorder: Bool = false
    /// Split touching nuclei: marker watershed on the distance transform (weighted by intensity, below),
    /// markers = its h-maxima.
    public var watershed: Bool = true
    /// Markers are regional maxima of the distance transform that rise at least this many pixels
    /// above the saddle to a neighbouring maximum (h-maxima); larger = fewer splits.
    public var watershedH: Double = 1.0
    /// The watershed landscape is distance × (intensity / object maximum)^weight: a dim gap between
    /// two nuclei deepens the saddle (0 = pure distance transform).
    public var watershedIntensityWeight: Double = 0.3
    /// Bright/dim split: an object whose bright part (Otsu within the object) is at least this many
    /// times brighter than its dim part, and whose dim part is thick, is split in two (0 = off).
    public var contrastRatio: Double = 2.0
    /// The dim part must be at least this thick (max distance to its edge, px) to become a nucleus.
    public var contrastMinThickness: Double = 4
    /// Labelling radius for patches: an object takes the class of the nearest annotation marker within
    /// this distance (pixels) of its pixels. Chosen from the real sample (docs/segmentation.md).
    public var labelRadius: Double = 6

    public init() {}

    public static let standard = SegmentationConfig()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case background, backgroundRadius = "background_radius", smoothingSigma = "smoothing_sigma"
        case threshold, thresholdScale = "threshold_scale", hysteresisLow = "hysteresis_low"
        case openingRadius = "opening_radius", closingRadius = "closing_radius", fillHoles = "fill_holes"
        case minArea = "min_area", minObjectArea = "min_object_area", maxObjectArea = "max_object_area"
        case clearBorder = "clear_border", watershed, watershedH = "watershed_h"
        case watershedIntensityWeight = "watershed_intensity_weight"
        case contrastRatio = "contrast_ratio", contrastMinThickness = "contrast_min_thickness", labelRadius = "label_radius"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SegmentationConfig()
        background = try c.decodeIfPresent(Background.self, forKey: .background) ?? d.background
        backgroundRadius = try c.decodeFiniteIfPresent(.backgroundRadius) ?? d.backgroundRadius
        smoothingSigma = try c.decodeFiniteIfPresent(.smoothingSigma) ?? d.smoothingSigma
        threshold = try c.decodeIfPresent(ThresholdMethod.self, forKey: .threshold) ?? d.threshold
        thresholdScale = try c.decodeFiniteIfPresent(.thresholdScale) ?? d.thresholdScale
        hysteresisLow = try c.decodeFiniteIfPresent(.hysteresisLow) ?? d.hysteresisLow
        openingRadius = try c.decodeIfPresent(Int.self, forKey: .openingRadius) ?? d.openingRadius
        closingRadius = try c.decodeIfPresent(Int.self, forKey: .closingRadius) ?? d.closingRadius
        fillHoles = try c.decodeIfPresent(Bool.self, forKey: .fillHoles) ?? d.fillHoles
        minArea = try c.decodeIfPresent(Int.self, forKey: .minArea) ?? d.minArea
        minObjectArea = try c.decodeIfPresent(Int.self, forKey: .minObjectArea) ?? d.minObjectArea
        maxObjectArea = try c.decodeIfPresent(Int.self, forKey: .maxObjectArea) ?? d.maxObjectArea
        clearBorder = try c.decodeIfPresent(Bool.self, forKey: .clearBorder) ?? d.clearBorder
        watershed = try c.decodeIfPresent(Bool.self, forKey: .watershed) ?? d.watershed
        watershedH = try c.decodeFiniteIfPresent(.watershedH) ?? d.watershedH
        watershedIntensityWeight = try c.decodeFiniteIfPresent(.watershedIntensityWeight) ?? d.watershedIntensityWeight
        contrastRatio = try c.decodeFiniteIfPresent(.contrastRatio) ?? d.contrastRatio
        contrastMinThickness = try c.decodeFiniteIfPresent(.contrastMinThickness) ?? d.contrastMinThickness
        labelRadius = try c.decodeFiniteIfPresent(.labelRadius) ?? d.labelRadius
        if let (key, problem) = rangeProblem() { throw c.problem(key, problem) }
    }

    /// Checks ranges (upper bounds keep pixel counts and loops finite); returns the first problem
    /// and its key, phrased for the config file's author.
    public func validationProblem() -> String? { rangeProblem().map { "\($0.key.stringValue): \($0.problem)" } }

    func rangeProblem() -> (key: CodingKeys, problem: String)? {
        func outside<T: Comparable>(_ value: T, _ range: ClosedRange<T>) -> Bool { !range.contains(value) }
        if background != .none && outside(backgroundRadius, 1...1000) { return (.backgroundRadius, "must be in 1…1000 (got \(backgroundRadius))") }
        if outside(smoothingSigma, 0...20) { return (.smoothingSigma, "must be in 0…20 (got \(smoothingSigma))") }
        if !(thresholdScale > 0 && thresholdScale <= 100) { return (.thresholdScale, "must be > 0 and ≤ 100 (got \(thresholdScale))") }
        if !(hysteresisLow > 0 && hysteresisLow <= 1) { return (.hysteresisLow, "must be in (0, 1] (got \(hysteresisLow))") }
        if outside(openingRadius, 0...20) { return (.openingRadius, "must be in 0…20 (got \(openingRadius))") }
        if outside(closingRadius, 0...20) { return (.closingRadius, "must be in 0…20 (got \(closingRadius))") }
        let areas = 0...100_000_000
        if outside(minArea, areas) { return (.minArea, "must be in 0…100000000 (got \(minArea))") }
        if outside(minObjectArea, areas) { return (.minObjectArea, "must be in 0…100000000 (got \(minObjectArea))") }
        if outside(maxObjectArea, areas) { return (.maxObjectArea, "must be in 0…100000000 (got \(maxObjectArea))") }
        if maxObjectArea > 0 && maxObjectArea < minObjectArea {
            return (.maxObjectArea, "\(maxObjectArea) is below min_object_area (\(minObjectArea)); use 0 for no limit")
        }
        if outside(watershedH, 0...1000) { return (.watershedH, "must be in 0…1000 (got \(watershedH))") }
        if outside(watershedIntensityWeight, 0...4) { return (.watershedIntensityWeight, "must be in 0…4 (got \(watershedIntensityWeight))") }
        if contrastRatio != 0 && outside(contrastRatio, 1...1000) { return (.contrastRatio, "must be 0 (off) or in 1…1000 (got \(contrastRatio))") }
        if outside(contrastMinThickness, 0...1000) { return (.contrastMinThickness, "must be in 0…1000 (got \(contrastMinThickness))") }
        if outside(labelRadius, 0...1000) { return (.labelRadius, "must be in 0…1000 (got \(labelRadius))") }
        return nil
    }

    /// Parses YAML text; `source` names the file in messages. Empty text gives the standard settings.
    public static func parse(yaml text: String, source: String) throws -> SegmentationConfig {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .standard }
        return try ConfigFile.decode(SegmentationConfig.self, yaml: text, source: source)
    }

    /// Loads a YAML file (any subset of the keys in config/segmentation.yaml).
    public static func load(_ path: String) throws -> SegmentationConfig {
        try parse(yaml: ConfigFile.read(path), source: path)
    }

    /// The configuration as YAML (same keys as the shipped file); stored with outputs for provenance.
    public func yaml() -> String {
        (try? YAMLEncoder().encode(self)) ?? ""
    }

    /// The configuration as compact JSON (for HDF5 attributes).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(background, forKey: .background)
        try c.encode(backgroundRadius, forKey: .backgroundRadius)
        try c.encode(smoothingSigma, forKey: .smoothingSigma)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(thresholdScale, forKey: .thresholdScale)
        try c.encode(hysteresisLow, forKey: .hysteresisLow)
        try c.encode(openingRadius, forKey: .openingRadius)
        try c.encode(closingRadius, forKey: .closingRadius)
        try c.encode(fillHoles, forKey: .fillHoles)
        try c.encode(minArea, forKey: .minArea)
        try c.encode(minObjectArea, forKey: .minObjectArea)
        try c.encode(maxObjectArea, forKey: .maxObjectArea)
        try c.encode(clearBorder, forKey: .clearBorder)
        try c.encode(watershed, forKey: .watershed)
        try c.encode(watershedH, forKey: .watershedH)
        try c.encode(watershedIntensityWeight, forKey: .watershedIntensityWeight)
        try c.encode(contrastRatio, forKey: .contrastRatio)
        try c.encode(contrastMinThickness, forKey: .contrastMinThickness)
        try c.encode(labelRadius, forKey: .labelRadius)
    }
}
