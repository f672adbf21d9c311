import XCTest
@testable import Imaging

final class PatchLabelerTests: XCTestCase {
    func object(_ label: Int, _ x: Double, _ y: Double, radius: Int = 3) -> Nucleus {
        Nucleus(label: label, centroidX: x, centroidY: y, minX: Int(x) - radius, minY: Int(y) - radius,
                maxX: Int(x) + radius, maxY: Int(y) + radius, area: (2 * radius + 1) * (2 * radius + 1),
                meanIntensity: 100, maxIntensity: 200, solidity: 1, eccentricity: 0)
    }
    let classOf: (Int) -> NucleusClass? = ClassMap.standard.nucleusClass(forType:)
    let classOfNo3: (Int) -> NucleusClass? = { [1: NucleusClass.nonNETotic, 2: .netotic, 4: .other][$0] }

    func testMarkerLabelsTheNearestObjectWithinRadius() {
        let objects = [object(1, 20, 20), object(2, 30, 20)]
        let markers = [Marker(x: 27, y: 21, type: 2)]
        let a = PatchLabeler.assign(objects: objects, width: 100, height: 100, markers: markers,
                                    labelRadius: 6, classOf: classOf)
        XCTAssertEqual(a.objectClass, [nil, .netotic])
        XCTAssertEqual(a.markerObject, [1])
        XCTAssertEqual(a.stats.matchedMarkers, 1)
        XCTAssertEqual(a.stats.unmatchedObjects, 1)
    }

    func testMarkerBeyondRadiusLabelsNothing() {
        let objects = [object(1, 20, 20)]
        let markers = [Marker(x: 20, y: 27, type: 1)]
        let near = PatchLabeler.assign(objects: objects, width: 100, height: 100, markers: markers,
                                       labelRadius: 7, classOf: classOf)
        XCTAssertEqual(near.objectClass, [.nonNETotic], "distance exactly 7 is within radius 7")
        let far = PatchLabeler.assign(objects: objects, width: 100, height: 100, markers: markers,
                                      labelRadius: 6.9, classOf: classOf)
        XCTAssertEqual(far.objectClass, [nil])
        XCTAssertEqual(far.stats.unmatchedMarkers, 1)
    }

    func testEachMarkerLabelsAtMostOneObjectAndObjectsTakeTheNearestMarker() {
        // Two markers near object 0; object 1 is within radius of the second marker but farther.
        let objects = [object(1, 50, 50), object(2, 58, 50)]
        let markers = [Marker(x: 51, y: 50, type: 1), Marker(x: 53, y: 50, type: 2)]
        let a = PatchLabeler.assign(objects: objects, width: 100, height: 100, markers: markers,
                                    labelRadius: 6, classOf: classOf)
        XCTAssertEqual(a.markerObject, [0, 0], "marker 2 is nearer object 0 (3 px) than object 1 (5 px)")
        XCTAssertEqual(a.objectClass, [.nonNETotic, nil], "object 0 takes its nearest marker; object 1 gets none")
        XCTAssertEqual(a.objectMarker, [0, nil])
        XCTAssertEqual(a.objectAmbiguous, [false, true], "object 1 lies within the radius of a marker it did not get")
        XCTAssertEqual(a.stats.ambiguousObjects, 1)
        XCTAssertEqual(a.stats.objectsWithSeveralMarkers, 1)
        XCTAssertEqual(a.markerObject.compactMap { $0 }.count, 2)
    }

    func testIgnoredTypesAndOutsideMarkersAreCounted() {
        let objects = [object(1, 5, 5)]
        let markers = [Marker(x: 5, y: 5, type: 3), Marker(x: -1, y: 5, type: 1), Marker(x: 5, y: 100, type: 2),
                       Marker(x: 6, y: 5, type: 2)]
        let a = PatchLabeler.assign(objects: objects, width: 40, height: 40, markers: markers,
                                    labelRadius: 6, classOf: classOfNo3)
        XCTAssertEqual(a.stats.ignoredMarkers, 1)
        XCTAssertEqual(a.stats.outsideMarkers, 2)
        XCTAssertEqual(a.stats.matchedMarkers, 1)
        XCTAssertEqual(a.objectClass, [.netotic])
    }

    func testWithLabelImageDistanceIsToTheObjectsPixels() {
        // A large object (disk r = 15 at (40, 40)) and a small one (r = 2 at (62, 40)).
        let w = 100, h = 80
        var labels = [Int32](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w {
            if (x - 40) * (x - 40) + (y - 40) * (y - 40) <= 225 { labels[y * w + x] = 1 }
            if (x - 62) * (x - 62) + (y - 40) * (y - 40) <= 4 { labels[y * w + x] = 2 }
        } }
        let objects = [object(1, 40, 40, radius: 15), object(2, 62, 40, radius: 2)]
        // Marker on the big nucleus' rim: 13 px from its centroid but on its pixels.
        // Second marker at x = 57: 2 px from the big disk's edge (x = 55), 3 px from the small one's (x = 60).
        let markers = [Marker(x: 40, y: 27, type: 2), Marker(x: 57, y: 40, type: 1)]
        let a = PatchLabeler.assign(objects: objects, labelImage: labels, width: w, height: h, markers: markers,
                                    labelRadius: 6, classOf: classOf)
        XCTAssertEqual(a.markerObject, [0, 0])
        XCTAssertEqual(a.objectClass, [.netotic, nil], "the marker on the object wins over the one 2 px outside")
        // Without the label image only centroids count: the rim marker is 13 px away → unmatched,
        // the other marker is 5 px from the small object's centroid.
        let c = PatchLabeler.assign(objects: objects, width: w, height: h, markers: markers,
                                    labelRadius: 6, classOf: classOf)
        XCTAssertEqual(c.markerObject, [nil, 1])
    }

    func testSegmentModeKeepsOrDropsUnmatchedObjects() {
        let objects = [object(1, 20, 20), object(2, 60, 60), object(3, 20, 60)]
        let segmentation = Segmentation(width: 100, height: 100, labels: [], nuclei: objects)
        let markers = [Marker(x: 21, y: 20, type: 1), Marker(x: 20, y: 61, type: 4)]
        var config = PatchConfig(labelRadius: 6, unmatched: .other)
        let kept = PatchSites.segmentMode(segmentation, markers: markers, config: config, classOf: classOf).sites
        XCTAssertEqual(kept.map(\.label), [.nonNETotic, .other, .other])
        XCTAssertEqual(kept.map(\.objectIndex), [0, 1, 2])
        XCTAssertEqual(kept.map(\.markerIndex), [0, nil, 1])
        config.unmatched = .drop
        let dropped = PatchSites.segmentMode(segmentation, markers: markers, config: config, classOf: classOf).sites
        XCTAssertEqual(dropped.map(\.objectIndex), [0, 2])
        XCTAssertEqual(dropped.map(\.x), [20, 20])
    }

    func testAmbiguousObjectsNearAnotherObjectsMarkerAreDroppedByDefault() {
        // A lobe (object 1) split off the annotated nucleus (object 0); object 2 is far from any marker.
        let objects = [object(1, 40, 40), object(2, 46, 40), object(3, 80, 80)]
        let segmentation = Segmentation(width: 100, height: 100, labels: [], nuclei: objects)
        let markers = [Marker(x: 41, y: 40, type: 1)]
        var config = PatchConfig(labelRadius: 6)
        XCTAssertEqual(config.ambiguous, .drop)
        let sites = PatchSites.segmentMode(segmentation, markers: markers, config: config, classOf: classOf).sites
        XCTAssertEqual(sites.map(\.objectIndex), [0, 2])
        XCTAssertEqual(sites.map(\.label), [.nonNETotic, .other])
        config.ambiguous = .other
        let kept = PatchSites.segmentMode(segmentation, markers: markers, config: config, classOf: classOf).sites
        XCTAssertEqual(kept.map(\.objectIndex), [0, 1, 2])
        XCTAssertEqual(kept.map(\.label), [.nonNETotic, .other, .other])
    }
}
