import Foundation

/// How well a segmentation covers manual annotation markers — the acceptance measure for
/// segmentation on annotated images, and the evidence for `label_radius`.
///
/// Each marker is matched to the object with the nearest pixel (distance 0 when the marker lies on
/// an object); it counts as covered when that distance is ≤ `radius`. Objects matched by two or more
/// markers are "multi" objects (touching nuclei left as one).
public struct MarkerCoverage: Codable, Sendable, Equatable {
    public var markers = 0
    /// Markers outside the image (not counted in `markers`).
    public var outside = 0
    public var covered = 0
    /// Objects matched by ≥ 1 and by ≥ 2 markers.
    public var matchedObjects = 0
    public var multiObjects = 0
    /// Per marker (in order, outside ones skipped): distance to the nearest object pixel, or nil if
    /// none lies within the search window.
    public var distances: [Double?] = []

    public init() {}

    public var coverage: Double { markers == 0 ? 1 : Double(covered) / Double(markers) }
    public var multiFraction: Double { matchedObjects == 0 ? 0 : Double(multiObjects) / Double(matchedObjects) }

    public mutating func add(_ o: MarkerCoverage) {
        markers += o.markers; outside += o.outside; covered += o.covered
        matchedObjects += o.matchedObjects; multiObjects += o.multiObjects; distances += o.distances
    }

    /// - Parameter window: half-size of the search square for the distance record (≥ radius).
    public static func measure(_ seg: Segmentation, markers: [Marker], radius: Double, window: Int = 30) -> MarkerCoverage {
        var r = MarkerCoverage()
        let reach = max(window, Int(radius.rounded(.up)))
        var hits = [Int](repeating: 0, count: seg.nuclei.count + 1)
        seg.labels.withUnsafeBufferPointer { l in
            for m in markers {
                guard m.x.isFinite, m.y.isFinite, m.x >= 0, m.y >= 0, m.x < Double(seg.width), m.y < Double(seg.height) else {
                    r.outside += 1; continue
                }
                r.markers += 1
                let px = Int(m.x), py = Int(m.y)
                var best = Double.infinity, bestK = 0
                for y in max(0, py - reach)...min(seg.height - 1, py + reach) {
                    let dy = Double(y) - m.y
                    for x in max(0, px - reach)...min(seg.width - 1, px + reach) {
                        let k = Int(l[y * seg.width + x])
                        if k == 0 { continue }
                        let dx = Double(x) - m.x
                        let d = (x == px && y == py) ? 0 : (dx * dx + dy * dy).squareRoot()
                        if d < best || (d == best && k < bestK) { best = d; bestK = k }
                    }
                }
                r.distances.append(best.isFinite ? best : nil)
                if best <= radius { r.covered += 1; hits[bestK] += 1 }
            }
        }
        r.matchedObjects = hits.dropFirst().filter { $0 >= 1 }.count
        r.multiObjects = hits.dropFirst().filter { $0 >= 2 }.count
        return r
    }

    /// Fraction of markers within each distance (for choosing `label_radius`).
    public func cumulative(at radii: [Double]) -> [Double] {
        radii.map { r in markers == 0 ? 1 : Double(distances.filter { ($0 ?? .infinity) <= r }.count) / Double(markers) }
    }
}
