import Foundation
import Imaging
import TestSupport
import XCTest

/// `netosis segment` as a user runs it (the built binary): bad inputs give one line naming the file,
/// the other images are still processed; an empty folder is a clear error; alone and under mpirun
/// the object table is the same.
final class SegmentCommandTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("segcmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func field(_ centres: [(Double, Double)]) -> GrayImage {
        var img = GrayImage(width: 160, height: 120, bitDepth: 16, fill: 200)
        for (cx, cy) in centres {
            for y in 0..<120 { for x in 0..<160 where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= 49 {
                img[x, y] = 2500
            } }
        }
        return img
    }

    func testBadInputsThroughTheCommand() throws {
        let netosis = try productPath("netosis")
        let images = path("images"), notes = path("notes")
        for d in [images, notes] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try TIFFWriter.write(field([(30, 30), (100, 60)]), to: images + "/w1.tif", compression: .lzw)
        try TIFFWriter.write(field([(60, 60)]), to: images + "/w2.tif", compression: .none)
        try Data([0x49, 0x49, 0x2A, 0x00, 0xFF]).write(to: URL(fileURLWithPath: images + "/w3.tif"))  // truncated TIFF
        try Data("x,y,type\n30,30,1\n100,60,2\n400,10,1\n".utf8).write(to: URL(fileURLWithPath: notes + "/w1.csv"))
        try Data("<CellCounter_Marker_File><Image_Properties><Image_Filename>w9.tif</Image_Filename></Image_Properties><Marker_Data/></CellCounter_Marker_File>".utf8)
            .write(to: URL(fileURLWithPath: notes + "/CellCounter_w9.xml"))

        let run = try runProgram(netosis, ["segment", "--input", images, "--out", path("out/objects.csv"),
                                           "--annotations", notes], timeout: 120)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("warning: \(images)/w3.tif: "), run.output)
        XCTAssertTrue(run.output.contains("warning: \(notes)/CellCounter_w9.xml: names image 'w9.tif', which is not among the input images"),
                      run.output)
        XCTAssertTrue(run.output.contains("warning: \(notes)/w1.csv: 1 marker(s) outside the 160×120 image w1.tif"), run.output)
        XCTAssertTrue(run.output.contains("segment: 2/3 images, 3 objects"), run.output)
        XCTAssertTrue(run.output.contains("100.00% within label_radius"), run.output)
        let table = try String(contentsOfFile: path("out/objects.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(table.count, 4)  // header + 3 objects
        let summary = try String(contentsOfFile: path("out/objects.images.csv"), encoding: .utf8)
        XCTAssertTrue(summary.contains("\(images)/w3.tif,failed,"), summary)

        // Same table from two ranks.
        let two = try mpirun(2, netosis, ["segment", "--input", images, "--out", path("out/mpi.csv")], timeout: 120)
        XCTAssertEqual(two.status, 0, two.output)
        XCTAssertEqual(try String(contentsOfFile: path("out/mpi.csv"), encoding: .utf8),
                       try String(contentsOfFile: path("out/objects.csv"), encoding: .utf8))

        // An empty folder, a wrong output suffix.
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: true)
        let empty = try runProgram(netosis, ["segment", "--input", path("empty"), "--out", path("e.csv")], timeout: 60)
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.output.contains("\(path("empty")): contains no .tif/.tiff images"), empty.output)
        let suffix = try runProgram(netosis, ["segment", "--input", images, "--out", path("e.txt")], timeout: 60)
        XCTAssertNotEqual(suffix.status, 0)
        XCTAssertTrue(suffix.output.contains("--out must end in .csv or .h5"), suffix.output)
    }
}
