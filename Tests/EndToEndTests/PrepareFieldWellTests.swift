import Foundation
import Imaging
import Storage
import TestSupport
import XCTest
@testable import Pipeline

/// Wells stored as fields (`plate_B02_f1.tif` …) are assembled on read when an annotation names the well.
final class PrepareFieldWellTests: XCTestCase {
    var work: URL!
    override func setUpWithError() throws { work = try makeTemporaryDirectory("prepare-fields") }
    override func tearDownWithError() throws { if let work { try? FileManager.default.removeItem(at: work) } }

    /// A 2×2 grid of 100×80 fields, numbered from 1, row-major.
    let wells = WellConfig(naming: WellNaming.standard,
                           grid: FieldGrid(columns: 2, rows: 2, fieldWidth: 100, fieldHeight: 80, order: .rowMajor, firstIndex: 1),
                           extensions: ["tif", "tiff"])

    func writeWell(_ stem: String, in dir: URL, discs: [(Int, Int)], fields: [Int] = [1, 2, 3, 4]) throws {
        var well = GrayImage(width: 200, height: 160, bitDepth: 8, fill: 10)
        for (cx, cy) in discs {
            for y in (cy - 5)...(cy + 5) { for x in (cx - 5)...(cx + 5) where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= 20 {
                well[x, y] = 220
            } }
        }
        let parts = try wells.grid.split(well)
        for f in fields { try TIFFWriter.write(parts[f - 1], to: dir.appendingPathComponent("\(stem)_f\(f).tif").path) }
    }

    func writeXML(_ path: URL, image: String, markers: [(Int, Int, Int)]) throws {
        var xml = "<CellCounter_Marker_File><Image_Properties><Image_Filename>\(image)</Image_Filename></Image_Properties><Marker_Data>"
        for t in 1...2 {
            xml += "<Marker_Type><Type>\(t)</Type>"
            for (x, y, type) in markers where type == t { xml += "<Marker><MarkerX>\(x)</MarkerX><MarkerY>\(y)</MarkerY></Marker>" }
            xml += "</Marker_Type>"
        }
        try (xml + "</Marker_Data></CellCounter_Marker_File>").write(to: path, atomically: true, encoding: .utf8)
    }

    func testAnnotatedWellIsAssembledFromItsFieldsAndIncompleteOnesAreReported() throws {
        let images = work.appendingPathComponent("img"), notes = work.appendingPathComponent("ann")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        // Discs in three different fields, in well coordinates (one in field 4 at (150, 120)).
        let discs = [(30, 30), (150, 40), (150, 120)]
        try writeWell("p1_B02", in: images, discs: discs)
        try writeWell("p1_B03", in: images, discs: discs, fields: [1, 2, 4])        // field 3 missing
        let markers = [(31, 30, 1), (150, 41, 2), (149, 120, 2)]
        try writeXML(notes.appendingPathComponent("CellCounter_p1_B02.xml"), image: "p1_B02.tif", markers: markers)
        try writeXML(notes.appendingPathComponent("CellCounter_p1_B03.xml"), image: "p1_B03.tif", markers: markers)

        let out = work.appendingPathComponent("p.h5").path
        var warnings: [String] = [], logs: [String] = []
        let summary = try PrepareJob.run(
            PrepareOptions(imagesDirectory: images.path, annotationsDirectory: notes.path, output: out, labelRadius: 6,
                           wells: wells),
            log: { logs.append($0) }, warn: { warnings.append($0) })
        XCTAssertEqual(summary.imagesWritten, 1)
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        XCTAssertTrue(warnings[0].contains("CellCounter_p1_B03.xml") && warnings[0].contains("field 3"), warnings[0])
        XCTAssertFalse(logs.contains { $0.contains("no annotation file") }, "fields of the used well are not unannotated: \(logs)")

        let file = try HDF5File.open(out)
        XCTAssertEqual(try file.dataset("images/name").readStrings(), ["p1_B02"])
        XCTAssertEqual(try file.dataset("images/well").readStrings(), ["B02"])
        XCTAssertEqual(try file.read("images/width", as: Int32.self), [200])
        XCTAssertEqual(try file.read("images/height", as: Int32.self), [160])
        XCTAssertEqual(try file.read("labels", as: Int8.self), [1, 2, 2])
        let centers: [Float] = try file.read("center")
        for (i, (x, y)) in discs.enumerated() {
            XCTAssertEqual(Double(centers[2 * i]), Double(x), accuracy: 0.5)
            XCTAssertEqual(Double(centers[2 * i + 1]), Double(y), accuracy: 0.5)
        }
        // The patch at the disc in field 4 shows the disc at its centre (the fields were placed right).
        let patch: [UInt16] = try file.dataset("patches").read(offset: [2, 0, 0], count: [1, 112, 112])
        XCTAssertEqual(patch[56 * 112 + 56], 220)
    }
}
