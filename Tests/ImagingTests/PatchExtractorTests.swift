import XCTest
@testable import Imaging

final class PatchExtractorTests: XCTestCase {
    /// Image whose pixel value encodes its position: v = x + 100·y.
    func coded(width: Int, height: Int) -> GrayImage {
        GrayImage(width: width, height: height, pixels: (0..<(width * height)).map { UInt16($0 % width + 100 * ($0 / width)) })
    }

    func testReflectIndexIsReflect101() {
        // n = 5: … 3 2 1 | 0 1 2 3 4 | 3 2 1 0 1 …
        let expected = [-6: 2, -5: 3, -4: 4, -3: 3, -2: 2, -1: 1, 0: 0, 4: 4, 5: 3, 6: 2, 8: 0, 9: 1, 12: 4, 13: 3]
        for (i, want) in expected { XCTAssertEqual(PatchExtractor.reflect(i, 5), want, "reflect(\(i), 5)") }
        for i in -3...3 { XCTAssertEqual(PatchExtractor.reflect(i, 1), 0) }
        XCTAssertEqual((-3...4).map { PatchExtractor.reflect($0, 2) }, [1, 0, 1, 0, 1, 0, 1, 0])
    }

    func testInteriorPatchIsAPlainCropCentredOnTheCentroid() {
        let image = coded(width: 60, height: 50)
        let patch = PatchExtractor.cut(image, centerX: 30.4, centerY: 24.6, size: 8)
        // round(30.4) = 30, round(24.6) = 25 → origin (26, 21); centre pixel at patch (4, 4).
        XCTAssertEqual(patch[4 * 8 + 4], image[30, 25])
        for r in 0..<8 { for c in 0..<8 { XCTAssertEqual(patch[r * 8 + c], image[26 + c, 21 + r]) } }
    }

    func testBorderPatchesMirrorWithoutRepeatingTheEdge() {
        let image = coded(width: 7, height: 6)
        let size = 10
        let patch = PatchExtractor.cut(image, centerX: 0, centerY: 5, size: size)
        // Origin (-5, 0): columns -5…4 → 5 4 3 2 1 0 1 2 3 4 ; rows 0…9 → 0 1 2 3 4 5 4 3 2 1
        let columns = [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]
        let rows = [0, 1, 2, 3, 4, 5, 4, 3, 2, 1]
        for r in 0..<size {
            for c in 0..<size {
                XCTAssertEqual(patch[r * size + c], UInt16(columns[c] + 100 * rows[r]), "patch(\(c), \(r))")
            }
        }
    }

    func testPatchLargerThanImageStillFills() {
        let image = coded(width: 3, height: 2)
        let patch = PatchExtractor.cut(image, centerX: 1, centerY: 1, size: 12)
        XCTAssertEqual(patch.count, 144)
        // Every value must be a pixel of the image, and the centre is the centre pixel.
        let values = Set(image.pixels)
        XCTAssertTrue(patch.allSatisfy { values.contains($0) })
        XCTAssertEqual(patch[6 * 12 + 6], image[1, 1])
    }

    func testDefaultPatchSizeIs112() {
        let image = coded(width: 200, height: 150)
        let patch = PatchExtractor.cut(image, centerX: 10, centerY: 140)
        XCTAssertEqual(patch.count, 112 * 112)
        XCTAssertEqual(patch[56 * 112 + 56], image[10, 140])
    }
}
