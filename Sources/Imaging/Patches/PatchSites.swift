import Determinism

/// Where patches are cut in one image, and with which label.
public struct PatchSite: Equatable, Sendable {
    /// Patch centre in pixels (object centroid, or marker / random point in point mode).
    public var x: Double
    public var y: Double
    public var label: NucleusClass
    /// Segment mode: index into the segmentation's objects.
    public var objectIndex: Int?
    /// The marker that labelled it, if any.
    public var markerIndex: Int?

    public init(x: Double, y: Double, label: NucleusClass, objectIndex: Int? = nil, markerIndex: Int? = nil) {
        self.x = x; self.y = y; self.label = label; self.objectIndex = objectIndex; self.markerIndex = markerIndex
    }
}

/// How patch centres are chosen.
public enum PatchMode: String, Codable, Sendable, CaseIterable {
    /// Segment every nucleus, cut at its centroid, label from the nearest marker (the paper's method).
    case segment
    /// The reference code's method: cut at every marker plus seeded random negatives (no segmentation).
    case point
}

public enum PatchSites {
    /// Segment mode: one site per object, in object order; unpicked objects become class 0 or are
    /// dropped per `config.ambiguous` (a marker is near) or `config.unmatched` (none is).
    public static func segmentMode(_ segmentation: Segmentation, markers: [Marker], config: PatchConfig,
                                   classOf: (Int) -> NucleusClass?) -> (sites: [PatchSite], assignment: LabelAssignment) {
        let assignment = PatchLabeler.assign(objects: segmentation.nuclei, labelImage: segmentation.labels,
                                             width: segmentation.width, height: segmentation.height,
                                             markers: markers, labelRadius: config.labelRadius, classOf: classOf)
        var sites: [PatchSite] = []
        sites.reserveCapacity(segmentation.nuclei.count)
        for (i, object) in segmentation.nuclei.enumerated() {
            let label: NucleusClass
            if let c = assignment.objectClass[i] {
                label = c
            } else if (assignment.objectAmbiguous[i] ? config.ambiguous : config.unmatched) == .other {
                label = .other
            } else {
                continue
            }
            sites.append(PatchSite(x: object.centroidX, y: object.centroidY, label: label,
                                   objectIndex: i, markerIndex: assignment.objectMarker[i]))
        }
        return (sites, assignment)
    }

    /// Point mode (the reference code's `data_preparation.py`): one site at every marker whose type
    /// maps to a class, then `config.negativesPerImage` random points labelled 0 whose Chebyshev
    /// distance to every marker is at least `config.negativeExclusion`. The random points depend only
    /// on (seed, image name), never on processing order. Returns the sites and how many markers lay
    /// outside the image (skipped).
    public static func pointMode(markers: [Marker], width: Int, height: Int, config: PatchConfig,
                                 seed: UInt64, imageName: String,
                                 classOf: (Int) -> NucleusClass?) -> (sites: [PatchSite], outsideMarkers: Int) {
        var sites: [PatchSite] = []
        var outside = 0
        var inside: [Marker] = []
        for (m, marker) in markers.enumerated() {
            guard marker.x >= 0, marker.y >= 0, marker.x < Double(width), marker.y < Double(height) else {
                outside += 1; continue
            }
            inside.append(marker)
            if let c = classOf(marker.type) { sites.append(PatchSite(x: marker.x, y: marker.y, label: c, markerIndex: m)) }
        }
        guard config.negativesPerImage > 0, width > 0, height > 0 else { return (sites, outside) }
        var rng = SplitMix64(seed: seed, StableHash.of(imageName), 0x4E45_47) // "NEG"
        let exclusion = config.negativeExclusion
        var found = 0, attempts = 0
        let maxAttempts = 10_000 * config.negativesPerImage
        while found < config.negativesPerImage && attempts < maxAttempts {
            attempts += 1
            let x = Double(rng.nextInt(below: width)), y = Double(rng.nextInt(below: height))
            let clear = inside.allSatisfy { max(abs($0.x - x), abs($0.y - y)) >= exclusion }
            if clear {
                sites.append(PatchSite(x: x, y: y, label: .other))
                found += 1
            }
        }
        return (sites, outside)
    }
}
