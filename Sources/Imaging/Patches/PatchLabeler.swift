/// Gives segmented objects the class of the manual annotation markers that sit on them.
///
/// Rule (docs/prepare.md):
/// 1. Markers whose type maps to no class are ignored; markers outside the image are counted and
///    ignored.
/// 2. Each remaining marker picks **one** object, the nearest one within `labelRadius`. Distance is
///    measured from the marker to the object's nearest pixel (0 when the marker lies on the object)
///    when a label image is given — the same definition `SegmentationConfig.labelRadius` uses — and
///    to the object's centroid otherwise. Ties go to the nearer centroid, then the lower index.
///    A marker never labels two objects.
/// 3. An object picked by several markers takes the class of the nearest of them (same ordering;
///    then the marker listed first); it is counted in `objectsWithSeveralMarkers`.
/// 4. Objects no marker picked but within `labelRadius` of some marker are "ambiguous" (typically a
///    lobe of an annotated nucleus that segmentation split off, or a neighbour touching it): they are
///    dropped or kept as class 0, per `PatchConfig.ambiguous` (default drop).
/// 5. Objects no marker comes near are "unmatched": class 0 or dropped, per `PatchConfig.unmatched`.
public struct LabelAssignment: Equatable, Sendable {
    /// Per object: the class from its marker, or nil if no marker picked it.
    public var objectClass: [NucleusClass?]
    /// Per object: index of the marker that labelled it, or nil.
    public var objectMarker: [Int?]
    /// Per marker: the object it picked, or nil (ignored type, outside, or nothing within radius).
    public var markerObject: [Int?]
    /// Per object: no marker picked it, but one lies within the radius (see rule 4).
    public var objectAmbiguous: [Bool]
    public var stats: LabelStats
}

public struct LabelStats: Equatable, Sendable, Codable {
    public var markers = 0
    /// Markers whose type maps to no class.
    public var ignoredMarkers = 0
    /// Markers outside the image bounds.
    public var outsideMarkers = 0
    /// Markers that picked an object.
    public var matchedMarkers = 0
    /// Markers with no object within the radius.
    public var unmatchedMarkers = 0
    /// Objects that at least two markers picked (touching nuclei segmented as one).
    public var objectsWithSeveralMarkers = 0
    /// Objects no marker picked (ambiguous ones included).
    public var unmatchedObjects = 0
    /// Unpicked objects within the radius of a marker that picked another object.
    public var ambiguousObjects = 0

    public init() {}

    public mutating func add(_ other: LabelStats) {
        markers += other.markers; ignoredMarkers += other.ignoredMarkers; outsideMarkers += other.outsideMarkers
        matchedMarkers += other.matchedMarkers; unmatchedMarkers += other.unmatchedMarkers
        objectsWithSeveralMarkers += other.objectsWithSeveralMarkers; unmatchedObjects += other.unmatchedObjects
        ambiguousObjects += other.ambiguousObjects
    }
}

public enum PatchLabeler {
    /// - Parameters:
    ///   - objects: the segmented objects (centroids in pixels).
    ///   - labelImage: optional row-major label image (0 background, k = objects[k-1]) of
    ///     `width`×`height`; nil or empty = centroid distance only.
    ///   - classOf: maps a marker type to a class; nil = ignore the marker.
    public static func assign(objects: [Nucleus], labelImage: [Int32]? = nil, width: Int, height: Int,
                              markers: [Marker], labelRadius: Double,
                              classOf: (Int) -> NucleusClass?) -> LabelAssignment {
        var stats = LabelStats()
        stats.markers = markers.count
        var markerObject = [Int?](repeating: nil, count: markers.count)
        // Per marker: (distance² to the object, distance² to its centroid) of the pick.
        var markerKey = [(Double, Double)](repeating: (.infinity, .infinity), count: markers.count)
        let r2 = labelRadius * labelRadius
        let mask: [Int32]? = (labelImage?.count ?? 0) == width * height && width > 0 ? labelImage : nil
        let grid = mask == nil ? CentroidGrid(objects: objects, cell: max(labelRadius, 1)) : nil
        var near = [Bool](repeating: false, count: objects.count)

        @inline(__always) func centroidD2(_ i: Int, _ x: Double, _ y: Double) -> Double {
            let dx = objects[i].centroidX - x, dy = objects[i].centroidY - y
            return dx * dx + dy * dy
        }
        @inline(__always) func better(_ a: (Double, Double, Int), than b: (Double, Double, Int)) -> Bool {
            a.0 != b.0 ? a.0 < b.0 : (a.1 != b.1 ? a.1 < b.1 : a.2 < b.2)
        }

        for (m, marker) in markers.enumerated() {
            guard classOf(marker.type) != nil else { stats.ignoredMarkers += 1; continue }
            guard marker.x.isFinite, marker.y.isFinite, marker.x >= 0, marker.y >= 0,
                  marker.x < Double(width), marker.y < Double(height) else {
                stats.outsideMarkers += 1; continue
            }
            var best: (Double, Double, Int) = (.infinity, .infinity, Int.max)
            if let mask {
                // Nearest pixel of each object in the window around the marker.
                let reach = Int(labelRadius.rounded(.up))
                let px = Int(marker.x), py = Int(marker.y)
                for y in max(0, py - reach)...min(height - 1, py + reach) {
                    let dy = Double(y) - marker.y
                    for x in max(0, px - reach)...min(width - 1, px + reach) {
                        let k = Int(mask[y * width + x])
                        guard k > 0 && k <= objects.count else { continue }
                        let dx = Double(x) - marker.x
                        let inside = x == px && y == py
                        let d2 = inside ? 0 : dx * dx + dy * dy
                        guard d2 <= r2 else { continue }
                        near[k - 1] = true
                        let candidate = (d2, centroidD2(k - 1, marker.x, marker.y), k - 1)
                        if better(candidate, than: best) { best = candidate }
                    }
                }
            } else if let grid {
                grid.forEachCandidate(x: marker.x, y: marker.y, radius: labelRadius) { i in
                    let d2 = centroidD2(i, marker.x, marker.y)
                    let candidate = (d2, d2, i)
                    if d2 <= r2 { near[i] = true }
                    if d2 <= r2 && better(candidate, than: best) { best = candidate }
                }
            }
            if best.2 != Int.max {
                markerObject[m] = best.2; markerKey[m] = (best.0, best.1); stats.matchedMarkers += 1
            } else {
                stats.unmatchedMarkers += 1
            }
        }

        var objectMarker = [Int?](repeating: nil, count: objects.count)
        var pickCount = [Int](repeating: 0, count: objects.count)
        for m in markers.indices {
            guard let o = markerObject[m] else { continue }
            pickCount[o] += 1
            if let current = objectMarker[o] {
                if better((markerKey[m].0, markerKey[m].1, m), than: (markerKey[current].0, markerKey[current].1, current)) {
                    objectMarker[o] = m
                }
            } else {
                objectMarker[o] = m
            }
        }
        var objectClass = [NucleusClass?](repeating: nil, count: objects.count)
        var ambiguous = [Bool](repeating: false, count: objects.count)
        for o in objects.indices {
            if let m = objectMarker[o] {
                objectClass[o] = classOf(markers[m].type)
            } else {
                stats.unmatchedObjects += 1
                if near[o] { ambiguous[o] = true; stats.ambiguousObjects += 1 }
            }
            if pickCount[o] >= 2 { stats.objectsWithSeveralMarkers += 1 }
        }
        return LabelAssignment(objectClass: objectClass, objectMarker: objectMarker,
                               markerObject: markerObject, objectAmbiguous: ambiguous, stats: stats)
    }
}

/// Buckets object centroids on a square grid for radius queries.
struct CentroidGrid {
    let cell: Double
    var buckets: [Int64: [Int]] = [:]

    init(objects: [Nucleus], cell: Double) {
        self.cell = cell
        for (i, o) in objects.enumerated() where o.centroidX.isFinite && o.centroidY.isFinite {
            buckets[key(Int((o.centroidX / cell).rounded(.down)), Int((o.centroidY / cell).rounded(.down))), default: []]
                .append(i)
        }
    }

    @inline(__always)
    func key(_ gx: Int, _ gy: Int) -> Int64 { (Int64(gx) << 32) ^ Int64(UInt32(truncatingIfNeeded: gy)) }

    /// Calls `body` for every object in the cells touching the square of `radius` around (x, y),
    /// in ascending object index order within each cell.
    func forEachCandidate(x: Double, y: Double, radius: Double, _ body: (Int) -> Void) {
        let gx0 = Int(((x - radius) / cell).rounded(.down)), gx1 = Int(((x + radius) / cell).rounded(.down))
        let gy0 = Int(((y - radius) / cell).rounded(.down)), gy1 = Int(((y + radius) / cell).rounded(.down))
        for gy in gy0...gy1 {
            for gx in gx0...gx1 {
                if let list = buckets[key(gx, gy)] { for i in list { body(i) } }
            }
        }
    }
}
