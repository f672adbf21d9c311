import XCTest
@testable import Imaging

final class PatchPointModeTests: XCTestCase {
    let markers = [Marker(x: 100, y: 100, type: 1), Marker(x: 300, y: 200, type: 2), Marker(x: 50, y: 400, type: 5),
                   Marker(x: 10, y: 10, type: 3), Marker(x: 700, y: 10, type: 1)]
    let classOf: (Int) -> NucleusClass? = { [1: NucleusClass.nonNETotic, 2: .netotic, 4: .other, 5: .other][$0] }

    func testCropsAtEveryMappedMarkerPlusSeededNegatives() {
        let config = PatchConfig(negativesPerImage: 10, negativeExclusion: 32)
        let (sites, outside) = PatchSites.pointMode(markers: markers, width: 672, height: 512, config: config,
                                                    seed: 7, imageName: "21b_b3.2_1", classOf: classOf)
        XCTAssertEqual(outside, 1, "x = 700 is outside a 672-wide image")
        let positives = sites.filter { $0.markerIndex != nil }
        XCTAssertEqual(positives.map(\.label), [.nonNETotic, .netotic, .other])
        XCTAssertEqual(positives.map(\.markerIndex), [0, 1, 2])
        let negatives = sites.filter { $0.markerIndex == nil }
        XCTAssertEqual(negatives.count, 10)
        for n in negatives {
            XCTAssertEqual(n.label, .other)
            XCTAssertTrue(n.x >= 0 && n.x < 672 && n.y >= 0 && n.y < 512)
            // Away from every marker inside the image, ignored type 3 included (as the reference did).
            for m in markers where m.x < 672 {
                XCTAssertGreaterThanOrEqual(max(abs(m.x - n.x), abs(m.y - n.y)), 32, "negative at (\(n.x), \(n.y))")
            }
        }
    }

    func testNegativesAreDeterministicPerSeedAndImage() {
        let config = PatchConfig(negativesPerImage: 5)
        func negatives(_ seed: UInt64, _ name: String) -> [PatchSite] {
            PatchSites.pointMode(markers: markers, width: 672, height: 512, config: config, seed: seed,
                                 imageName: name, classOf: classOf).sites.filter { $0.markerIndex == nil }
        }
        XCTAssertEqual(negatives(1, "a"), negatives(1, "a"))
        XCTAssertNotEqual(negatives(1, "a"), negatives(2, "a"))
        XCTAssertNotEqual(negatives(1, "a"), negatives(1, "b"))
    }

    func testImageFullOfMarkersGivesFewerNegativesInsteadOfHanging() {
        let dense = (0..<10).flatMap { i in (0..<10).map { j in Marker(x: Double(i * 10), y: Double(j * 10), type: 1) } }
        let config = PatchConfig(negativesPerImage: 3, negativeExclusion: 32)
        let (sites, _) = PatchSites.pointMode(markers: dense, width: 100, height: 100, config: config, seed: 1,
                                              imageName: "x", classOf: classOf)
        XCTAssertEqual(sites.count, 100)
    }
}
