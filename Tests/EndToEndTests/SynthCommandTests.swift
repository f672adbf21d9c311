import Foundation
import TestSupport
import XCTest

/// `netosis synth` as users run it: the same set, byte for byte, alone and under `mpirun -np 2`.
final class SynthCommandTests: XCTestCase {
    func testTwoRanksWriteTheSameBytesAsOne() throws {
        let directory = try makeTemporaryDirectory("synth-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let netosis = try productPath("netosis")
        let arguments = ["synth", "--seed", "5", "--plates", "1", "--wells", "3", "--width", "336", "--height", "256"]
        let one = directory.appendingPathComponent("one").path
        let two = directory.appendingPathComponent("two").path
        let alone = try runProgram(netosis, arguments + ["--out", one], timeout: 120)
        XCTAssertEqual(alone.status, 0, alone.output)
        let parallel = try mpirun(2, netosis, arguments + ["--out", two], timeout: 120)
        XCTAssertFalse(parallel.timedOut, parallel.output)
        XCTAssertEqual(parallel.status, 0, parallel.output)

        let files = try relativeFiles(one)
        XCTAssertEqual(files, try relativeFiles(two))
        // 3 wells: an image and a Cell Counter file each, plus the plate map, truth tables and parameters.
        XCTAssertEqual(files.filter { $0.hasPrefix("images/") && $0.hasSuffix(".tif") }.count, 3, "\(files)")
        XCTAssertEqual(files.filter { $0.hasPrefix("annotations/") && $0.hasSuffix(".xml") }.count, 3, "\(files)")
        XCTAssertTrue(Set(files).isSuperset(of: ["platemap.csv", "truth_nuclei.csv", "truth_wells.csv", "synth.json"]), "\(files)")
        for file in files where file != "synth.json" {  // synth.json may record a creation time
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(one)/\(file)"))
            let b = try Data(contentsOf: URL(fileURLWithPath: "\(two)/\(file)"))
            XCTAssertTrue(a == b, "\(file) differs between 1 and 2 ranks")
        }
        // The truth table has one row per marker in the XML files (rows are nuclei, + header).
        let truth = try String(contentsOfFile: "\(one)/truth_nuclei.csv", encoding: .utf8).split(separator: "\n")
        let markers = try files.filter { $0.hasSuffix(".xml") }.map {
            try String(contentsOfFile: "\(one)/\($0)", encoding: .utf8).components(separatedBy: "<Marker>").count - 1
        }.reduce(0, +)
        XCTAssertGreaterThan(markers, 30)
        XCTAssertEqual(truth.count - 1, markers)
    }

    private func relativeFiles(_ root: String) throws -> [String] {
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(atPath: root))
        return enumerator.compactMap { $0 as? String }.filter { path in
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: "\(root)/\(path)", isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }.sorted()
    }
}
