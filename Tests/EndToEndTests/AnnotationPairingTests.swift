import Foundation
import Imaging
import Storage
import TestSupport
import XCTest

/// The one image/annotation pairing (`AnnotationPairing`) and file listing (`InputFiles`) that
/// `netosis segment --annotations` and `netosis prepare` share, on small folders built here.
final class AnnotationPairingTests: XCTestCase {
    var work: URL!
    override func setUpWithError() throws { work = try makeTemporaryDirectory("pairing") }
    override func tearDownWithError() throws { if let work { try? FileManager.default.removeItem(at: work) } }

    func path(_ relative: String) -> String { work.appendingPathComponent(relative).path }

    func write(_ text: String, to relative: String) throws {
        let url = work.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A 200×150 8-bit image with bright discs (radius 5) at `discs`.
    func writeImage(_ relative: String, discs: [(Int, Int)] = [], width: Int = 200, height: Int = 150) throws {
        var image = GrayImage(width: width, height: height, bitDepth: 8, fill: 10)
        for (cx, cy) in discs {
            for y in max(0, cy - 5)...min(height - 1, cy + 5) { for x in max(0, cx - 5)...min(width - 1, cx + 5)
                where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= 25 { image[x, y] = 200 } }
        }
        let url = work.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try TIFFWriter.write(image, to: url.path)
    }

    /// Cell Counter XML; `image` nil leaves out Image_Properties.
    func cellCounter(_ image: String?, _ markers: [(Int, Int, Int)] = [(40, 40, 1)]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CellCounter_Marker_File>\n"
        if let image { xml += " <Image_Properties>\n  <Image_Filename>\(image)</Image_Filename>\n </Image_Properties>\n" }
        xml += " <Marker_Data>\n"
        for t in 1...2 {
            xml += "  <Marker_Type><Type>\(t)</Type>\n"
            for (x, y, type) in markers where type == t { xml += "   <Marker><MarkerX>\(x)</MarkerX><MarkerY>\(y)</MarkerY></Marker>\n" }
            xml += "  </Marker_Type>\n"
        }
        return xml + " </Marker_Data>\n</CellCounter_Marker_File>\n"
    }

    func pairing(wells: WellConfig? = nil) throws -> AnnotationPairing {
        try AnnotationPairing.scan(images: try InputFiles.images(path("img")), from: path("img"),
                                   annotations: path("ann"), assemblingWells: wells)
    }

    /// "stem ← annotation file name" for each pair, in order.
    func summary(_ p: AnnotationPairing) -> [String] {
        p.pairs.map { "\($0.stem) ← \(($0.annotationPath as NSString).lastPathComponent)" }
    }

    func testNamesAreFoundWithBackslashesWhitespaceAndWithoutAnImageName() throws {
        for stem in ["a1", "a2", "a3", "a4", "a5", "21b_b3.2_1", "lonely"] { try writeImage("img/\(stem).tif") }
        try writeImage("img/sub/a6.TIFF")
        // Windows Fiji writes the full path with backslashes.
        try write(cellCounter(#"C:\Users\lab\NETs 2024\a1.tif"#), to: "ann/CellCounter_a1.xml")
        // Whitespace and line breaks around the name (the XML reader trims them) …
        try write(cellCounter("\n     a2.tif   \n  "), to: "ann/notes_for_a2.xml")
        // … and inside a quoted CSV field, where the reader keeps them.
        try write("x,y,type,image\n40,40,1,\" a3.tif \"\n", to: "ann/points_for_a3.csv")
        // No Image_Filename: the file name less CellCounter_ (any case) names the image.
        try write(cellCounter(nil), to: "ann/cellcounter_a4.xml")
        // A points CSV without header or image column: its own stem.
        try write("40,40,2\n60,70,1\n", to: "ann/a5.csv")
        // A name without extension whose stem has a dot is tried whole.
        try write(cellCounter("21b_b3.2_1"), to: "ann/CellCounter_21b.xml")
        // A forward-slash folder and another extension (the .gif original of a .tiff in a subfolder).
        try write(cellCounter("/data/gif/a6.gif"), to: "ann/deep/CellCounter_a6.xml")

        let p = try pairing()
        XCTAssertEqual(p.problems, [])
        XCTAssertEqual(summary(p), ["21b_b3.2_1 ← CellCounter_21b.xml", "a1 ← CellCounter_a1.xml", "a2 ← notes_for_a2.xml",
                                    "a3 ← points_for_a3.csv", "a4 ← cellcounter_a4.xml", "a5 ← a5.csv",
                                    "a6 ← CellCounter_a6.xml"])
        XCTAssertEqual(p.pairs.map { $0.image.path }, ["21b_b3.2_1", "a1", "a2", "a3", "a4", "a5"].map { path("img/\($0).tif") }
                       + [path("img/sub/a6.TIFF")])
        XCTAssertEqual(p.pairs.first { $0.stem == "a5" }?.annotations.markers, [Marker(x: 40, y: 40, type: 2), Marker(x: 60, y: 70, type: 1)])
        XCTAssertEqual(p.unannotated, [path("img/lonely.tif")])
        XCTAssertEqual(p.annotationsByImage[path("img/a1.tif")]?.sourcePath, path("ann/CellCounter_a1.xml"))
    }

    func testDuplicatesMissingImagesAndUnreadableFilesAreReportedOneLineEach() throws {
        try writeImage("img/s1/dup.tif"); try writeImage("img/s2/dup.tif")
        try writeImage("img/b1.tif"); try writeImage("img/b1.tiff")
        try writeImage("img/c1.tif")
        try write(cellCounter("dup.tif"), to: "ann/CellCounter_dup.xml")
        try write(cellCounter("c1.tif"), to: "ann/CellCounter_c1.xml")
        try write("x,y,type\n1,2,1\n", to: "ann/c1.csv")                       // a second annotation of c1
        try write(cellCounter("zz9.tif"), to: "ann/CellCounter_zz9.xml")       // names a missing image
        try write(cellCounter(nil), to: "ann/CellCounter_yy8.xml")             // its file name names a missing image
        try write("<CellCounter_Marker_File><Marker_Data><Marker_Type><Type>1</Type><Marker><MarkerX>oops",
                  to: "ann/CellCounter_broken.xml")                            // unreadable

        let p = try pairing()
        XCTAssertEqual(summary(p), ["c1 ← CellCounter_c1.xml", "dup ← CellCounter_dup.xml"])
        XCTAssertEqual(p.pairs.last?.image.path, path("img/s1/dup.tif"), "the first of two same-named images is kept")
        XCTAssertEqual(p.unannotated, [path("img/b1.tif")])
        XCTAssertEqual(p.problems.count, 6, "\(p.problems)")
        XCTAssertEqual(p.problems[0], path("img/b1.tiff") + ": same file name as " + path("img/b1.tif")
                       + "; annotations name images by file name, so only the first can be annotated")
        XCTAssertTrue(p.problems[1].hasPrefix(path("img/s2/dup.tif") + ": same file name as " + path("img/s1/dup.tif")), p.problems[1])
        XCTAssertTrue(p.problems[2].hasPrefix(path("ann/CellCounter_broken.xml") + ": line "), p.problems[2])
        XCTAssertEqual(p.problems[3], path("ann/CellCounter_yy8.xml") + ": is for image 'yy8' (from its file name), "
                       + "which is not among the input images (\(path("img"))); skipped")
        XCTAssertEqual(p.problems[4], path("ann/CellCounter_zz9.xml") + ": names image 'zz9.tif', "
                       + "which is not among the input images (\(path("img"))); skipped")
        XCTAssertEqual(p.problems[5], path("ann/c1.csv") + ": also annotates c1, already annotated by "
                       + path("ann/CellCounter_c1.xml") + "; skipped")
        XCTAssertTrue(p.problems.allSatisfy { !$0.contains("\n") }, "one line each")
    }

    func testAWellIsAssembledFromItsFieldsOnlyWhenAsked() throws {
        // A 2×2 grid of 4×3 fields; field k has every pixel = 10 k.
        let wells = WellConfig(naming: .standard, grid: FieldGrid(columns: 2, rows: 2, fieldWidth: 4, fieldHeight: 3),
                               extensions: ["tif", "tiff"])
        try FileManager.default.createDirectory(atPath: path("img"), withIntermediateDirectories: true)
        for k in 1...4 {
            try TIFFWriter.write(GrayImage(width: 4, height: 3, bitDepth: 8, fill: UInt16(10 * k)), to: path("img/p1_B02_f\(k).tif"))
        }
        for k in [1, 2, 4] { try TIFFWriter.write(GrayImage(width: 4, height: 3, bitDepth: 8, fill: 1), to: path("img/p1_B03_f\(k).tif")) }
        try writeImage("img/p1_B04.tif")
        try write(cellCounter("p1_B02.tif", [(5, 4, 2)]), to: "ann/CellCounter_p1_B02.xml")
        try write(cellCounter("p1_B03.tif"), to: "ann/CellCounter_p1_B03.xml")   // field 3 is missing

        let p = try pairing(wells: wells)
        XCTAssertEqual(summary(p), ["p1_B02 ← CellCounter_p1_B02.xml"])
        guard case .well(let well) = p.pairs[0].image else { return XCTFail("\(p.pairs[0].image)") }
        XCTAssertEqual(well.paths, (1...4).map { path("img/p1_B02_f\($0).tif") })
        XCTAssertEqual(p.pairs[0].image.path, path("img/p1_B02_f1.tif"))
        let image = try p.pairs[0].image.load()
        XCTAssertEqual([image.width, image.height], [8, 6])
        XCTAssertEqual([image[0, 0], image[4, 0], image[0, 3], image[7, 5]], [10, 20, 30, 40])
        XCTAssertEqual(p.problems.count, 1, "\(p.problems)")
        XCTAssertTrue(p.problems[0].hasPrefix(path("ann/CellCounter_p1_B03.xml") + ": its well p1_B03 cannot be assembled from fields: ")
                      && p.problems[0].contains("field 3"), p.problems[0])
        XCTAssertEqual(p.unannotated, [path("img/p1_B04.tif")], "fields of named wells are not unannotated")
        XCTAssertTrue(p.annotationsByImage.isEmpty, "a well is not a single file")

        // Without wells (segment): the annotations are reported, the fields stay single images.
        let single = try pairing()
        XCTAssertEqual(single.pairs.count, 0)
        XCTAssertEqual(single.problems.count, 2)
        XCTAssertEqual(single.problems[0], path("ann/CellCounter_p1_B02.xml") + ": names image 'p1_B02.tif', which the input "
                       + "holds only as field files (\(path("img/p1_B02_f1.tif")) …); wells are assembled from fields by prepare only; skipped")
        XCTAssertEqual(single.unannotated.count, 8)
    }

    func testListingIsRecursiveSortedCaseInsensitiveAndSkipsHiddenFiles() throws {
        try writeImage("img/b.tif"); try writeImage("img/sub/a.TIF"); try writeImage("img/sub/deeper/c.tiff")
        try writeImage("img/.hidden.tif"); try writeImage("img/.cache/d.tif")
        try write("not an image", to: "img/notes.txt")
        try FileManager.default.createDirectory(atPath: path("img/folder.tif"), withIntermediateDirectories: true)
        try writeImage("elsewhere/linked.tif")
        try FileManager.default.createSymbolicLink(atPath: path("img/link.tif"), withDestinationPath: path("elsewhere/linked.tif"))
        let expected = ["b.tif", "link.tif", "sub/a.TIF", "sub/deeper/c.tiff"].map { path("img/\($0)") }
        XCTAssertEqual(try InputFiles.images(path("img")), expected)
        XCTAssertEqual(try InputFiles.images(path("img"), fileAllowed: true), expected)
        // A relative folder gives relative paths.
        let here = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(work.path)
        defer { FileManager.default.changeCurrentDirectoryPath(here) }
        XCTAssertEqual(try InputFiles.images("img/sub"), ["img/sub/a.TIF", "img/sub/deeper/c.tiff"])

        func message(_ body: () throws -> Any) -> String { do { _ = try body(); return "" } catch { return "\(error)" } }
        XCTAssertEqual(message { try InputFiles.images(self.path("img/b.tif")) }, path("img/b.tif") + ": is a file, expected a folder of .tif/.tiff images")
        XCTAssertEqual(try InputFiles.images(path("img/b.tif"), fileAllowed: true), [path("img/b.tif")])
        XCTAssertEqual(message { try InputFiles.images(self.path("nope")) }, path("nope") + ": no such folder")
        XCTAssertEqual(message { try InputFiles.images(self.path("nope"), fileAllowed: true) }, path("nope") + ": no such file or folder")
        XCTAssertEqual(message { try InputFiles.annotationFiles(self.path("img")) },
                       path("img") + ": contains no annotation files (Cell Counter .xml or points .csv)")
    }

    /// The two commands, as a user runs them, pair one folder alike: the same warning lines and the
    /// same annotated images.
    func testSegmentAndPrepareCommandsPairAFolderAlike() throws {
        let netosis = try productPath("netosis")
        let discs = [(40, 40), (120, 60), (170, 120)]
        let markers = [(41, 40, 1), (120, 61, 2), (170, 119, 1)]
        for stem in ["e1_B02.0_0", "s1/e1_B03.0_0", "s2/e1_B03.0_0", "e2_C04.1_1", "e3_D01.0_0"] {
            try writeImage("img/\(stem).tif", discs: discs)
        }
        try write(cellCounter(#"D:\plates\e1_B02.0_0.tif"#, markers), to: "ann/CellCounter_e1_B02.0_0.xml")
        try write("x,y,type\n41,40,1\n", to: "ann/e1_B02.0_0.csv")             // second annotation
        try write(cellCounter(nil, markers), to: "ann/CellCounter_e1_B03.0_0.xml")  // duplicate image name
        try write("x,y,type,image\n" + markers.map { "\($0.0),\($0.1),\($0.2),\" e2_C04.1_1.tif \"" }.joined(separator: "\n"),
                  to: "ann/points.csv")
        try write(cellCounter("e9_H12.0_0.tif", markers), to: "ann/CellCounter_missing.xml")
        try write("<CellCounter_Marker_File><Marker_Data>", to: "ann/CellCounter_broken.xml")

        let expected = try pairing(wells: .standard)
        XCTAssertEqual(expected.pairs.map(\.stem), ["e1_B02.0_0", "e1_B03.0_0", "e2_C04.1_1"])
        XCTAssertEqual(expected.problems.count, 4, "\(expected.problems)")
        XCTAssertEqual(try pairing().problems, expected.problems, "wells change nothing here")

        func warnings(_ output: String) -> [String] {
            output.split(separator: "\n").filter { $0.hasPrefix("warning: ") }.map { String($0.dropFirst("warning: ".count)) }.sorted()
        }
        let segment = try runProgram(netosis, ["segment", "--input", path("img"), "--annotations", path("ann"),
                                               "--out", path("out/objects.csv"), "--verbose"], timeout: 120)
        XCTAssertEqual(segment.status, 0, segment.output)
        let prepare = try runProgram(netosis, ["prepare", "--images", path("img"), "--annotations", path("ann"),
                                               "--out", path("out/patches.h5"), "--label-radius", "6"], timeout: 120)
        XCTAssertEqual(prepare.status, 0, prepare.output)
        XCTAssertEqual(warnings(segment.output), expected.problems.sorted(), segment.output)
        XCTAssertEqual(warnings(prepare.output), expected.problems.sorted(), prepare.output)

        // Segment measures coverage on the paired images; prepare writes exactly those.
        let measured = segment.output.split(separator: "\n").filter { $0.contains("markers covered") }
            .map { String($0.prefix { $0 != ":" }) }
        let paired = expected.pairs.map(\.image.path)
        XCTAssertEqual(measured.sorted(), paired.sorted(), segment.output)
        XCTAssertEqual(try HDF5File.open(path("out/patches.h5")).dataset("images/path").readStrings(), paired)
        XCTAssertTrue(prepare.output.contains("1 image(s) have no annotation file and are skipped (e.g. e3_D01.0_0)"), prepare.output)
    }
}
