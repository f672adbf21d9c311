
/// How labelled patches are made (DESIGN item 4). Stored as JSON in patches.h5 `config`.
public struct PatchConfig: Codable, Equatable, Sendable {
    /// What happens to a segmented object that no annotation marker labels.
    public enum Unmatched: String, Codable, Sendable, CaseIterable {
        /// Keep it as class 0 "other" (debris, unannotated cells): the classifier learns to reject them.
        case other
        /// Leave it out of the dataset.
        case drop
    }

    /// Side of the square patch in pixels (the model input; DESIGN fixes 112).
    public var patchSize: Int
    /// A marker labels the nearest object whose centroid lies within this many pixels
    /// (or the object whose mask contains the marker). See docs/prepare.md for the choice.
    public var labelRadius: Double
    public var unmatched: Unmatched
    /// What happens to an object no marker picked although a marker lies within `labelRadius` of it
    /// (a lobe split off an annotated nucleus, or its touching neighbour): its class is unknown, so
    /// by default it is left out rather than taught as "other".
    public var ambiguous: Unmatched
    /// Point mode: random background patches per image, labelled 0 (the reference code used 10).
    public var negativesPerImage: Int
    /// Point mode: a negative's centre is at least this far (Chebyshev, px) from every marker
    /// (the reference code used 32).
    public var negativeExclusion: Double

    /// Default radius: the segmentation config's `label_radius`, which the segmentation work measured
    /// on the real sample (docs/segmentation.md), so labelling and the segmentation acceptance
    /// ("markers on or within label_radius of an object") use one definition.
    public static var defaultLabelRadius: Double { SegmentationConfig.standard.labelRadius }

    public static let standard = PatchConfig()

    public init(patchSize: Int = PatchExtractor.defaultSize, labelRadius: Double = PatchConfig.defaultLabelRadius,
                unmatched: Unmatched = .other, ambiguous: Unmatched = .drop, negativesPerImage: Int = 10,
                negativeExclusion: Double = 32) {
        self.patchSize = patchSize; self.labelRadius = labelRadius; self.unmatched = unmatched; self.ambiguous = ambiguous
        self.negativesPerImage = negativesPerImage; self.negativeExclusion = negativeExclusion
    }

    enum CodingKeys: String, CodingKey {
        case patchSize = "patch_size", labelRadius = "label_radius", unmatched, ambiguous
        case negativesPerImage = "negatives_per_image", negativeExclusion = "negative_exclusion"
    }

    /// Missing keys keep their defaults, so a YAML file may set only what it changes.
    public init(from decoder: Decoder) throws {
        let d = PatchConfig()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? d.patchSize
        labelRadius = try c.decodeIfPresent(Double.self, forKey: .labelRadius) ?? d.labelRadius
        unmatched = try c.decodeIfPresent(Unmatched.self, forKey: .unmatched) ?? d.unmatched
        ambiguous = try c.decodeIfPresent(Unmatched.self, forKey: .ambiguous) ?? d.ambiguous
        negativesPerImage = try c.decodeIfPresent(Int.self, forKey: .negativesPerImage) ?? d.negativesPerImage
        negativeExclusion = try c.decodeIfPresent(Double.self, forKey: .negativeExclusion) ?? d.negativeExclusion
    }

    /// Checks ranges; the message names what to fix.
    public func validated(source: String = "patch config") throws -> PatchConfig {
        func bad(_ what: String) -> ImageError { ImageError(path: source, problem: what) }
        guard patchSize >= 8, patchSize <= 1024 else { throw bad("patch_size \(patchSize) must be 8...1024") }
        guard labelRadius > 0, labelRadius.isFinite else { throw bad("label_radius \(labelRadius) must be > 0") }
        guard negativesPerImage >= 0 else { throw bad("negatives_per_image must be ≥ 0") }
        guard negativeExclusion >= 0 else { throw bad("negative_exclusion must be ≥ 0") }
        return self
    }
}
