import Foundation
import Imaging
import Storage
import TestSupport
import XCTest
@testable import Pipeline

/// Bad inputs give one line naming the file and the problem; the other images are still processed.
final class PrepareBadInputTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws { work = try makeTemporaryDirectory("prepare-bad") }
    override func tearDownWithError() throws { if let work { try? FileManager.default.removeItem(at: work) } }

    /// A 200×150 8-bit image with bright discs at the given centres.
    func writeImage(_ path: String, discs: [(Int, Int)]) throws {
        var image = GrayImage(width: 200, height: 150, bitDepth: 8, fill: 10)
        for (cx, cy) in discs {
            for y in max(0, cy - 6)...min(149, cy + 6) { for x in max(0, cx - 6)...min(199, cx + 6)
                where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= 25 { image[x, y] = 200 } }
        }
        try TIFFWriter.write(image, to: path)
    }

    func writeXML(_ path: String, image: String, markers: [(Int, Int, Int)]) throws {
        var types: [Int: [(Int, Int)]] = [:]
        for (x, y, t) in markers { types[t, default: []].append((x, y)) }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<CellCounter_Marker_File>\r\n <Image_Properties>\r\n"
        xml += "  <Image_Filename>\(image)</Image_Filename>\r\n </Image_Properties>\r\n <Marker_Data>\r\n"
        for t in 1...5 {
            xml += "  <Marker_Type>\r\n   <Type>\(t)</Type>\r\n"
            for (x, y) in types[t] ?? [] {
                xml += "   <Marker><MarkerX>\(x)</MarkerX><MarkerY>\(y)</MarkerY><MarkerZ>1</MarkerZ></Marker>\r\n"
            }
            xml += "  </Marker_Type>\r\n"
        }
        xml += " </Marker_Data>\r\n</CellCounter_Marker_File>\r\n"
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testEachBadFileIsNamedAndTheRestIsProcessed() throws {
        let images = work.appendingPathComponent("img"), notes = work.appendingPathComponent("ann")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        let discs = [(40, 40), (120, 60), (170, 120)]
        // Two good images (one .tiff), one with a marker outside, one unreadable "TIFF".
        try writeImage(images.appendingPathComponent("e1_B02.0_0.tif").path, discs: discs)
        try writeImage(images.appendingPathComponent("e1_B03.0_0.tiff").path, discs: discs)
        try writeImage(images.appendingPathComponent("e2_C04.1_1.tif").path, discs: discs)
        try Data("this is not a TIFF".utf8).write(to: images.appendingPathComponent("e2_C05.0_0.tif"))
        try writeImage(images.appendingPathComponent("e3_D01.0_0.tif").path, discs: discs)  // no annotation
        let markers = [(41, 40, 1), (120, 61, 2), (170, 119, 1)]
        try writeXML(notes.appendingPathComponent("CellCounter_e1_B02.0_0.xml").path, image: "e1_B02.0_0.tif", markers: markers)
        try writeXML(notes.appendingPathComponent("CellCounter_e1_B03.0_0.xml").path, image: "e1_B03.0_0.tif", markers: markers)
        try writeXML(notes.appendingPathComponent("CellCounter_e2_C04.1_1.xml").path, image: "e2_C04.1_1.tif",
                     markers: markers + [(500, 20, 2), (20, 900, 1)])
        try writeXML(notes.appendingPathComponent("CellCounter_e2_C05.0_0.xml").path, image: "e2_C05.0_0.tif", markers: markers)
        try writeXML(notes.appendingPathComponent("CellCounter_missing.xml").path, image: "e9_H12.0_0.tif", markers: markers)
        try "<CellCounter_Marker_File><Marker_Data><Marker_Type><Type>1</Type><Marker><MarkerX>oops"
            .write(to: notes.appendingPathComponent("CellCounter_broken.xml"), atomically: true, encoding: .utf8)

        let out = work.appendingPathComponent("p.h5").path
        var logs: [String] = [], warnings: [String] = []
        let summary = try PrepareJob.run(
            PrepareOptions(imagesDirectory: images.path, annotationsDirectory: notes.path, output: out, seed: 1, labelRadius: 6),
            log: { logs.append($0) }, warn: { warnings.append($0) })

        func warning(containing parts: String...) -> String? {
            warnings.first { w in parts.allSatisfy { w.contains($0) } }
        }
        XCTAssertNotNil(warning(containing: "CellCounter_missing.xml", "e9_H12.0_0.tif"), "\(warnings)")
        XCTAssertNotNil(warning(containing: "CellCounter_broken.xml"), "\(warnings)")
        XCTAssertNotNil(warning(containing: "e2_C05.0_0.tif"), "unreadable image named: \(warnings)")
        XCTAssertNotNil(warning(containing: "CellCounter_e2_C04.1_1.xml", "2 of 5 markers", "outside"), "\(warnings)")
        XCTAssertTrue(warnings.allSatisfy { !$0.contains("\n") }, "one line each")
        XCTAssertTrue(logs.contains { $0.contains("1 image(s) have no annotation file") && $0.contains("e3_D01.0_0") }, "\(logs)")

        XCTAssertEqual(summary.imagesWritten, 3)
        XCTAssertEqual(summary.imagesFailed, 1)
        let data = try PatchDataset(path: out)
        XCTAssertEqual(data.count, 9, "three discs in each of the three good images")
        XCTAssertEqual(data.classCounts(), [0, 6, 3])
    }

    func testEmptyOrMissingFoldersStopWithAMessageNamingThem() throws {
        let empty = work.appendingPathComponent("empty"), notes = work.appendingPathComponent("ann")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        let out = work.appendingPathComponent("p.h5").path
        XCTAssertThrowsError(try PrepareJob.run(PrepareOptions(imagesDirectory: empty.path, annotationsDirectory: notes.path,
                                                               output: out), log: { _ in }, warn: { _ in })) {
            XCTAssertTrue("\($0)".contains(empty.path) && "\($0)".contains("no .tif/.tiff images"), "\($0)")
        }
        let missing = work.appendingPathComponent("nope").path
        XCTAssertThrowsError(try PrepareJob.run(PrepareOptions(imagesDirectory: missing, annotationsDirectory: notes.path,
                                                               output: out), log: { _ in }, warn: { _ in })) {
            XCTAssertTrue("\($0)".contains(missing) && "\($0)".contains("no such folder"), "\($0)")
        }
        try writeImage(empty.appendingPathComponent("a_B01.tif").path, discs: [(50, 50)])
        XCTAssertThrowsError(try PrepareJob.run(PrepareOptions(imagesDirectory: empty.path, annotationsDirectory: notes.path,
                                                               output: out), log: { _ in }, warn: { _ in })) {
            XCTAssertTrue("\($0)".contains(notes.path) && "\($0)".contains("no annotation files"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written")
    }

    func testCommandLineReportsOneLineErrorForAnEmptyFolder() throws {
        let empty = work.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let result = try runProgram(try productPath("netosis"),
                                    ["prepare", "--images", empty.path, "--annotations", empty.path,
                                     "--out", work.appendingPathComponent("p.h5").path], timeout: 120)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("\(empty.path): contains no .tif/.tiff images"), result.output)
    }

    func testAppendingToAnInconsistentFileIsRefused() throws {
        let images = work.appendingPathComponent("img"), notes = work.appendingPathComponent("ann")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        try writeImage(images.appendingPathComponent("e1_B02.0_0.tif").path, discs: [(40, 40), (120, 60)])
        try writeXML(notes.appendingPathComponent("CellCounter_e1_B02.0_0.xml").path, image: "e1_B02.0_0.tif",
                     markers: [(40, 40, 1), (120, 60, 2)])
        let out = work.appendingPathComponent("p.h5").path
        let options = PrepareOptions(imagesDirectory: images.path, annotationsDirectory: notes.path, output: out, append: true)
        _ = try PrepareJob.run(options, log: { _ in }, warn: { _ in })
        do {  // simulate a run that died between writing labels and the image row
            let file = try HDF5File.open(out, mode: .readWrite)
            try file.dataset("labels").append([Int8(1)])
        }
        XCTAssertThrowsError(try PrepareJob.run(options, log: { _ in }, warn: { _ in })) {
            XCTAssertTrue("\($0)".contains(out) && "\($0)".contains("inconsistent"), "\($0)")
        }
    }

    func testAnnotationWithoutMarkersIsProcessedWithAWarning() throws {
        let images = work.appendingPathComponent("img"), notes = work.appendingPathComponent("ann")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        try writeImage(images.appendingPathComponent("e1_B02.0_0.tif").path, discs: [(40, 40), (120, 60)])
        try writeXML(notes.appendingPathComponent("CellCounter_e1_B02.0_0.xml").path, image: "e1_B02.0_0.tif", markers: [])
        var warnings: [String] = []
        let out = work.appendingPathComponent("p.h5").path
        let summary = try PrepareJob.run(PrepareOptions(imagesDirectory: images.path, annotationsDirectory: notes.path,
                                                        output: out), log: { _ in }, warn: { warnings.append($0) })
        XCTAssertEqual(summary.imagesWritten, 1)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("CellCounter_e1_B02.0_0.xml: has no markers"), "\(warnings)")
        XCTAssertEqual(try PatchDataset(path: out).classCounts(), [2, 0, 0])
    }
}
