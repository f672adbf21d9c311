import Foundation
import Imaging
import Storage
import TestSupport
import XCTest
@testable import Pipeline

/// The truth comparison used by the synthetic-plate acceptance, checked on a drawn image whose
/// answer is known: every nucleus found, every label right — and wrong annotations are caught.
final class PrepareTruthTests: XCTestCase {
    var work: URL!
    override func setUpWithError() throws { work = try makeTemporaryDirectory("prepare-truth") }
    override func tearDownWithError() throws { if let work { try? FileManager.default.removeItem(at: work) } }

    /// 5×4 grid of nuclei on a 480×360 image: small bright ones (class 1), large dimmer ones (class 2).
    func drawPlate() -> (GrayImage, [TruthObject]) {
        var image = GrayImage(width: 480, height: 360, bitDepth: 16, fill: 300)
        var truth: [TruthObject] = []
        for row in 0..<4 {
            for col in 0..<5 {
                let cx = 50 + col * 95, cy = 45 + row * 90
                let netotic = (row + col) % 3 == 0
                let r = netotic ? 14 : 6
                let level: UInt16 = netotic ? 2200 : 4000
                for y in (cy - r)...(cy + r) { for x in (cx - r)...(cx + r) where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r {
                    image[x, y] = level
                } }
                truth.append(TruthObject(image: "t1_B02.0_0", x: Double(cx), y: Double(cy),
                                         label: netotic ? .netotic : .nonNETotic, radius: Double(r)))
            }
        }
        return (image, truth)
    }

    func writeXML(_ path: String, markers: [(Double, Double, Int)]) throws {
        var xml = "<?xml version=\"1.0\"?>\n<CellCounter_Marker_File><Image_Properties><Image_Filename>t1_B02.0_0.tif</Image_Filename></Image_Properties><Marker_Data>\n"
        for t in 1...2 {
            xml += "<Marker_Type><Type>\(t)</Type>\n"
            for (x, y, type) in markers where type == t {
                xml += "<Marker><MarkerX>\(Int(x))</MarkerX><MarkerY>\(Int(y))</MarkerY><MarkerZ>1</MarkerZ></Marker>\n"
            }
            xml += "</Marker_Type>\n"
        }
        try (xml + "</Marker_Data></CellCounter_Marker_File>\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func prepare(markers: [(Double, Double, Int)], image: GrayImage, name: String) throws -> String {
        let dir = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TIFFWriter.write(image, to: dir.appendingPathComponent("t1_B02.0_0.tif").path)
        try writeXML(dir.appendingPathComponent("CellCounter_t1_B02.0_0.xml").path, markers: markers)
        let out = dir.appendingPathComponent("p.h5").path
        _ = try PrepareJob.run(PrepareOptions(imagesDirectory: dir.path, annotationsDirectory: dir.path, output: out,
                                              seed: 1, labelRadius: 6), log: { _ in }, warn: { XCTFail($0) })
        return out
    }

    func testDetectionAndLabelAgreementOnAKnownImage() throws {
        let (image, truth) = drawPlate()
        let detection = TruthCheck.detection(segmentation: Segmenter().segment(image), truth: truth, radius: 6)
        XCTAssertEqual(detection.nuclei, 20)
        XCTAssertEqual(detection.found, 20)

        // Annotator clicks up to 3 px off-centre.
        let clicks = truth.enumerated().map { i, t in (t.x + Double(i % 7 - 3), t.y + Double(i % 5 - 2), t.label.rawValue) }
        let out = try prepare(markers: clicks, image: image, name: "good")
        let agreement = try TruthCheck.agreement(patchesFile: out, truth: truth, tolerance: 6)
        XCTAssertEqual(agreement.patches, 20)
        XCTAssertEqual(agreement.fraction, 1, "confusion \(agreement.confusion)")

        // Four annotations swapped between classes: the check sees exactly those four.
        var wrong = clicks
        for i in [0, 5, 10, 15] { wrong[i].2 = 3 - wrong[i].2 }
        let bad = try TruthCheck.agreement(patchesFile: try prepare(markers: wrong, image: image, name: "bad"),
                                           truth: truth, tolerance: 6)
        XCTAssertEqual(bad.patches - bad.agreeing, 4, "confusion \(bad.confusion)")
        // A missed nucleus (painted over) is reported as not found.
        var erased = image
        for y in 30...60 { for x in 35...65 { erased[x, y] = 300 } }
        XCTAssertEqual(TruthCheck.detection(segmentation: Segmenter().segment(erased), truth: truth, radius: 6).found, 19)
    }
}
