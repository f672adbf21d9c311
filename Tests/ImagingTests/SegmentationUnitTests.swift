import Foundation
@testable import Imaging
import XCTest

/// Unit tests of the segmentation building blocks on small synthetic images with known answers.
final class SegmentationUnitTests: XCTestCase {
    /// Draws filled disks (value `v`) on a background.
    func disks(_ w: Int, _ h: Int, background: UInt16 = 10, _ list: [(x: Double, y: Double, r: Double, v: UInt16)]) -> GrayImage {
        var img = GrayImage(width: w, height: h, bitDepth: 16, fill: background)
        for d in list {
            for y in 0..<h {
                for x in 0..<w where (Double(x) - d.x) * (Double(x) - d.x) + (Double(y) - d.y) * (Double(y) - d.y) <= d.r * d.r {
                    img[x, y] = d.v
                }
            }
        }
        return img
    }

    func testOtsuSeparatesTwoModes() {
        var counts = [Double](repeating: 0, count: 256)
        for i in 20..<40 { counts[i] = 100 }
        for i in 180..<200 { counts[i] = 30 }
        let t = Threshold.otsu(counts)
        XCTAssertGreaterThanOrEqual(t, 39); XCTAssertLessThan(t, 180)
        let iso = Threshold.isodata(counts)
        XCTAssertGreaterThanOrEqual(iso, 39); XCTAssertLessThan(iso, 180)
        // Triangle: a tall peak with a long right tail → threshold just right of the peak, left of the tail.
        var tri = [Double](repeating: 0, count: 256)
        for i in 0..<256 { tri[i] = i < 30 ? Double(i) * 30 : max(0, 900 - Double(i - 30) * 8) }
        tri[200] = 5
        let tt = Threshold.triangle(tri)
        XCTAssertGreaterThan(tt, 30); XCTAssertLessThan(tt, 150)
    }

    func testLabellingIsEightConnected() {
        // Two pixels touching diagonally are one object; a separate pixel pair is another.
        var mask = [UInt8](repeating: 0, count: 25)
        mask[0] = 1; mask[6] = 1           // (0,0) and (1,1): diagonal
        mask[3] = 1; mask[4] = 1           // (3,0),(4,0)
        mask[20] = 1                       // (0,4)
        let (labels, count) = BinaryOps.label(mask, width: 5, height: 5)
        XCTAssertEqual(count, 3)
        XCTAssertEqual(labels[0], labels[6])
        XCTAssertNotEqual(labels[0], labels[3])
        XCTAssertEqual(labels[3], labels[4])
        // A U shape whose arms meet only at the bottom: union-find must merge the two provisional labels.
        let u: [UInt8] = [1, 0, 1,
                          1, 0, 1,
                          1, 1, 1]
        XCTAssertEqual(BinaryOps.label(u, width: 3, height: 3).count, 1)
    }

    func testDiskMorphologyAndHoleFilling() {
        let w = 41, h = 41
        var mask = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w where (x - 20) * (x - 20) + (y - 20) * (y - 20) <= 100 { mask[y * w + x] = 1 } }
        let area = mask.reduce(0) { $0 + Int($1) }
        let eroded = BinaryOps.morph(mask, width: w, height: h, radius: 2, dilate: false)
        let dilated = BinaryOps.morph(mask, width: w, height: h, radius: 2, dilate: true)
        // A disk of radius 10 eroded/dilated by a disk of radius 2 is close to a disk of radius 8 / 12.
        XCTAssertEqual(Double(eroded.reduce(0) { $0 + Int($1) }), Double.pi * 64, accuracy: 25)
        XCTAssertEqual(Double(dilated.reduce(0) { $0 + Int($1) }), Double.pi * 144, accuracy: 30)
        // Opening removes an isolated pixel and keeps the disk; closing fills a 1-px gap.
        var noisy = mask; noisy[2 * w + 2] = 1
        let opened = BinaryOps.open(noisy, width: w, height: h, radius: 1)
        XCTAssertEqual(opened[2 * w + 2], 0)
        XCTAssertEqual(opened.reduce(0) { $0 + Int($1) }, area, "opening must keep a convex disk")
        var holed = mask; holed[20 * w + 20] = 0; holed[20 * w + 21] = 0
        BinaryOps.fillHoles(&holed, width: w, height: h)
        XCTAssertEqual(holed, mask)
    }

    func testExactDistanceTransform() {
        // A 7×5 rectangle of foreground: distance to the outside (crop border counts as background).
        let w = 7, h = 5
        let mask = [UInt8](repeating: 1, count: w * h)
        let d2 = Watershed.squaredEDT(mask, width: w, height: h)
        XCTAssertEqual(d2[2 * w + 3], 9)   // centre: 3 to top/bottom edge beyond the crop
        XCTAssertEqual(d2[0], 1)
        XCTAssertEqual(d2[1 * w + 1], 4)
        // A single background pixel in the middle of a large square.
        let n = 21
        var m2 = [UInt8](repeating: 1, count: n * n); m2[10 * n + 10] = 0
        let e = Watershed.squaredEDT(m2, width: n, height: n)
        XCTAssertEqual(e[10 * n + 13], 9)
        XCTAssertEqual(e[13 * n + 14], 25)  // (4,3) away: 16 + 9
    }

    func testWatershedSplitsTwoTouchingDisksButNotOne() {
        // (Uniform disks: the intensity term of the landscape is flat, so this tests the distance part.)
        let config = SegmentationConfig.standard
        let two = disks(80, 60, [(28, 30, 12, 1000), (48, 30, 12, 1000)])
        let s2 = Segmenter(config: config).segment(two)
        XCTAssertEqual(s2.nuclei.count, 2, "two overlapping disks (centres 20 px apart, r 12) must split")
        let one = disks(80, 60, [(40, 30, 14, 1000)])
        XCTAssertEqual(Segmenter(config: config).segment(one).nuclei.count, 1)
        var noSplit = config; noSplit.watershed = false
        XCTAssertEqual(Segmenter(config: noSplit).segment(two).nuclei.count, 1)
    }

    func testContrastSplitSeparatesBrightFromDimButKeepsCores() {
        var config = SegmentationConfig.standard
        config.background = .none; config.watershed = false
        // A bright compact nucleus broadly touching a dim diffuse one: one blob to the threshold.
        // (Two lone dim nuclei make the dim level typical of the image, as in a real field.)
        let pair = disks(160, 60, background: 5, [(38, 30, 15, 60), (56, 30, 8, 160), (100, 20, 12, 60), (135, 40, 12, 60)])
        let split = Segmenter(config: config).segment(pair)
        XCTAssertEqual(split.nuclei.count, 4)
        XCTAssertEqual(split.nuclei.map(\.maxIntensity).sorted(), [60, 60, 60, 160])
        config.contrastRatio = 0
        XCTAssertEqual(Segmenter(config: config).segment(pair).nuclei.count, 3)
        // A dim nucleus with a bright core in its middle stays one object.
        config.contrastRatio = 2
        let cored = disks(160, 60, background: 5, [(40, 30, 16, 60), (40, 30, 5, 160), (100, 20, 12, 60), (135, 40, 12, 60)])
        XCTAssertEqual(Segmenter(config: config).segment(cored).nuclei.count, 3)
    }

    func testObjectMeasurements() throws {
        let img = disks(100, 80, [(30, 40, 10, 500), (70.5, 40, 6, 300)])
        var config = SegmentationConfig.standard
        config.background = .none; config.smoothingSigma = 0
        let seg = Segmenter(config: config).segment(img)
        XCTAssertEqual(seg.nuclei.count, 2)
        let big = try XCTUnwrap(seg.nuclei.first)
        XCTAssertEqual(big.centroidX, 30, accuracy: 0.01); XCTAssertEqual(big.centroidY, 40, accuracy: 0.01)
        XCTAssertEqual(Double(big.area), Double.pi * 100, accuracy: 12)
        XCTAssertEqual(big.meanIntensity, 500); XCTAssertEqual(big.maxIntensity, 500)
        XCTAssertEqual(big.minX, 20); XCTAssertEqual(big.maxX, 40); XCTAssertEqual(big.minY, 30); XCTAssertEqual(big.maxY, 50)
        XCTAssertGreaterThan(big.solidity, 0.9); XCTAssertLessThan(big.eccentricity, 0.2)
        // Labels agree with the table.
        XCTAssertEqual(seg.labels.filter { $0 == 1 }.count, big.area)
        XCTAssertEqual(seg.labels[40 * 100 + 30], 1)
        XCTAssertEqual(seg.labels[40 * 100 + 70], 2)
        // An L shape: solidity well below 1; a thin bar: eccentricity near 1.
        var l = GrayImage(width: 60, height: 60, fill: 0)
        for y in 10..<50 { for x in 10..<16 { l[x, y] = 900 } }
        for y in 44..<50 { for x in 10..<50 { l[x, y] = 900 } }
        let ls = Segmenter(config: config).segment(l)
        XCTAssertEqual(ls.nuclei.count, 1)
        XCTAssertLessThan(try XCTUnwrap(ls.nuclei.first).solidity, 0.6)
        var bar = GrayImage(width: 80, height: 30, fill: 0)
        for y in 11..<19 { for x in 5..<75 { bar[x, y] = 900 } }
        let bs = Segmenter(config: config).segment(bar)
        XCTAssertEqual(bs.nuclei.count, 1)
        let b = try XCTUnwrap(bs.nuclei.first)
        XCTAssertGreaterThan(b.eccentricity, 0.98)
        XCTAssertEqual(b.solidity, 1, accuracy: 0.02)
    }

    func testHysteresisKeepsDimObjectAttachedToBrightCore() {
        // A dim halo (value 60) around a bright core (400), and a separate dim blob (60) with no core.
        var img = disks(120, 60, background: 0, [(30, 30, 14, 60), (90, 30, 10, 60)])
        for y in 0..<60 { for x in 0..<120 where (x - 30) * (x - 30) + (y - 30) * (y - 30) <= 16 { img[x, y] = 400 } }
        var config = SegmentationConfig.standard
        config.background = .none; config.smoothingSigma = 0; config.watershed = false
        config.hysteresisLow = 0.1
        let withH = Segmenter(config: config).segment(img)
        XCTAssertEqual(withH.nuclei.count, 1, "the core-less dim blob stays background")
        XCTAssertGreaterThan(withH.nuclei[0].area, 500, "the halo joins its core")
        config.hysteresisLow = 1
        let without = Segmenter(config: config).segment(img)
        XCTAssertLessThan(without.nuclei.first?.area ?? 0, 100)
    }

    func testBackgroundCorrectionRemovesGradient() {
        // Same nuclei on a steep illumination ramp: without correction the bright side merges into one
        // foreground sheet; with correction every nucleus is found.
        let w = 256, h = 128
        var img = GrayImage(width: w, height: h, fill: 0)
        for y in 0..<h { for x in 0..<w { img[x, y] = UInt16(100 + x * 3) } }
        var centres: [(Double, Double)] = []
        for i in 0..<6 { for j in 0..<3 { centres.append((20 + Double(i) * 42, 22 + Double(j) * 42)) } }
        for (cx, cy) in centres {
            for y in 0..<h { for x in 0..<w where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= 49 {
                img[x, y] = img[x, y] + 400
            } }
        }
        for method in [SegmentationConfig.Background.rollingBall, .blur] {
            var config = SegmentationConfig.standard
            config.background = method
            XCTAssertEqual(Segmenter(config: config).segment(img).nuclei.count, centres.count, "\(method)")
        }
        var none = SegmentationConfig.standard
        none.background = .none
        XCTAssertNotEqual(Segmenter(config: none).segment(img).nuclei.count, centres.count)
    }

    func testSizeFilterAndClearBorder() {
        let img = disks(100, 60, [(30, 30, 10, 800), (70, 30, 2, 800), (2, 5, 6, 800)])
        var config = SegmentationConfig.standard
        config.background = .none; config.smoothingSigma = 0
        XCTAssertEqual(Segmenter(config: config).segment(img).nuclei.count, 2, "the 13-px speck is below min_area")
        config.clearBorder = true
        let cleared = Segmenter(config: config).segment(img)
        XCTAssertEqual(cleared.nuclei.count, 1)
        XCTAssertEqual(cleared.nuclei[0].centroidX, 30, accuracy: 0.5)
        config.clearBorder = false; config.maxObjectArea = 200
        XCTAssertEqual(Segmenter(config: config).segment(img).nuclei.count, 1, "the 317-px disk is above max_object_area")
    }

    func testFlatAndEmptyImagesGiveNoObjects() {
        let flat = GrayImage(width: 50, height: 40, fill: 123)
        let s = Segmenter().segment(flat)
        XCTAssertEqual(s.nuclei.count, 0)
        XCTAssertEqual(s.labels.count, 2000)
        XCTAssertTrue(s.labels.allSatisfy { $0 == 0 })
    }

    func testTinyAndDegenerateImagesDoNotCrash() {
        for (w, h) in [(1, 1), (1, 9), (9, 1), (2, 2), (3, 3), (5, 200)] {
            var img = GrayImage(width: w, height: h, fill: 10)
            img[w / 2, h / 2] = 5000
            let s = Segmenter().segment(img)
            XCTAssertEqual(s.labels.count, w * h)
            XCTAssertTrue(s.nuclei.allSatisfy { $0.area >= SegmentationConfig.standard.minObjectArea })
        }
        // All-saturated and single-bright-pixel images.
        XCTAssertEqual(Segmenter().segment(GrayImage(width: 30, height: 20, fill: 65535)).nuclei.count, 0)
    }

    func testEightAndSixteenBitGiveTheSameObjects() {
        let img8 = disks(90, 70, background: 12, [(25, 30, 9, 200), (60, 40, 11, 150)])
        var img16 = img8
        img16.pixels = img8.pixels.map { $0 * 257 }
        img16.bitDepth = 16
        var img8b = img8; img8b.bitDepth = 8
        let a = Segmenter().segment(img8b), b = Segmenter().segment(img16)
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertEqual(a.nuclei.count, 2)
    }
}
