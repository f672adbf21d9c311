import Foundation
import Imaging
@testable import Pipeline
import Storage
import XCTest

/// The segment job's per-image step: bad inputs are reported per file and the rest processed.
final class SegmentJobTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("segjob-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }

    /// A 16-bit field with nuclei at known places.
    func field(_ centres: [(Double, Double)], width: Int = 200, height: Int = 150) -> GrayImage {
        var img = GrayImage(width: width, height: height, bitDepth: 16, fill: 300)
        for (cx, cy) in centres {
            for y in 0..<height { for x in 0..<width where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= 64 {
                img[x, y] = 3000
            } }
        }
        return img
    }

    func testBadInputsAreReportedPerFileAndTheRestProcessed() throws {
        let images = path("images"), notes = path("annotations")
        try FileManager.default.createDirectory(atPath: images + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: notes, withIntermediateDirectories: true)
        let centres = [(40.0, 40.0), (120.0, 50.0), (80.0, 110.0)]
        try TIFFWriter.write(field(centres), to: images + "/a1.tif", compression: .deflate)
        try TIFFWriter.write(field([(50, 50)]), to: images + "/sub/a2.tiff", compression: .none)
        try Data("this is not a TIFF".utf8).write(to: URL(fileURLWithPath: images + "/broken.tif"))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: images + "/readme.txt"))

        let found = try InputFiles.images(images, fileAllowed: true)
        XCTAssertEqual(found.map { ($0 as NSString).lastPathComponent }, ["a1.tif", "broken.tif", "a2.tiff"])

        // Annotations: one good (with a marker outside the image), one naming a missing image, one unreadable.
        try Data("""
        <CellCounter_Marker_File><Image_Properties><Image_Filename>a1.tif</Image_Filename></Image_Properties>
        <Marker_Data><Marker_Type><Type>1</Type>
        <Marker><MarkerX>40</MarkerX><MarkerY>40</MarkerY></Marker>
        <Marker><MarkerX>121</MarkerX><MarkerY>51</MarkerY></Marker>
        <Marker><MarkerX>500</MarkerX><MarkerY>20</MarkerY></Marker>
        </Marker_Type><Marker_Type><Type>2</Type><Marker><MarkerX>86</MarkerX><MarkerY>110</MarkerY></Marker></Marker_Type>
        </Marker_Data></CellCounter_Marker_File>
        """.utf8).write(to: URL(fileURLWithPath: notes + "/CellCounter_a1.xml"))
        try Data("<CellCounter_Marker_File><Image_Properties><Image_Filename>zz9.tif</Image_Filename></Image_Properties><Marker_Data/></CellCounter_Marker_File>".utf8)
            .write(to: URL(fileURLWithPath: notes + "/CellCounter_zz9.xml"))
        try Data("<CellCounter_Marker_File><Marker_Data>".utf8).write(to: URL(fileURLWithPath: notes + "/CellCounter_a2.xml"))

        let pairing = try AnnotationPairing.scan(images: found, from: images, annotations: notes)
        XCTAssertEqual(Array(pairing.annotationsByImage.keys), [images + "/a1.tif"])
        XCTAssertEqual(pairing.problems.count, 2, "\(pairing.problems)")
        XCTAssertTrue(pairing.problems.contains { $0.hasPrefix(notes + "/CellCounter_zz9.xml: names image 'zz9.tif', which is not among the input images") },
                      "\(pairing.problems)")
        XCTAssertTrue(pairing.problems.contains { $0.hasPrefix(notes + "/CellCounter_a2.xml: line") }, "\(pairing.problems)")

        let segmenter = Segmenter()
        var outcomes: [SegmentOne.Outcome] = []
        for p in found {
            outcomes.append(SegmentOne.run(p, segmenter: segmenter, annotations: pairing.annotationsByImage[p], coverageTypes: [1, 2]))
        }
        XCTAssertEqual(outcomes.map(\.image.status), ["ok", "failed", "ok"])
        XCTAssertEqual(outcomes[1].image.error, images + "/broken.tif: not a TIFF file (no TIFF signature)")
        XCTAssertEqual(outcomes[0].image.nuclei.count, 3)
        XCTAssertEqual(outcomes[2].image.nuclei.count, 1)
        let cov = try XCTUnwrap(outcomes[0].coverage)
        XCTAssertEqual(cov.markers, 3); XCTAssertEqual(cov.outside, 1); XCTAssertEqual(cov.covered, 3)
        XCTAssertEqual(outcomes[0].warnings.count, 1)
        XCTAssertTrue(outcomes[0].warnings[0].hasPrefix(notes + "/CellCounter_a1.xml: 1 marker(s) outside the 200×150 image a1.tif"),
                      outcomes[0].warnings[0])

        // An empty folder and a missing path are errors naming the folder.
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: true)
        XCTAssertEqual(message { try InputFiles.images(self.path("empty"), fileAllowed: true) }, path("empty") + ": contains no .tif/.tiff images")
        XCTAssertEqual(message { try InputFiles.images(self.path("missing"), fileAllowed: true) }, path("missing") + ": no such file or folder")
        XCTAssertEqual(try InputFiles.images(images + "/a1.tif", fileAllowed: true), [images + "/a1.tif"])
    }
}
