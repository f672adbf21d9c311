import Foundation
import Imaging
import TestSupport
import XCTest

/// `netosis segment` over a folder holding one good image and the hostile TIFF corpus: the run
/// finishes (exit 0), the good image is segmented, and every hostile one is recorded failed with its
/// one-line reason (once, a 150-byte file claiming 200000 × 200000 pixels aborted the whole run).
final class SegmentHostileTIFFTests: XCTestCase {
    func testHostileImagesFailAloneAndTheRunGoesOn() throws {
        let netosis = try productPath("netosis")
        let directory = try makeTemporaryDirectory("segment-hostile")
        defer { try? FileManager.default.removeItem(at: directory) }
        let images = directory.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)

        var good = GrayImage(width: 160, height: 120, bitDepth: 16, fill: 200)
        for y in 0..<120 { for x in 0..<160 where (x - 60) * (x - 60) + (y - 50) * (y - 50) <= 49 { good[x, y] = 2500 } }
        try TIFFWriter.write(good, to: images.appendingPathComponent("good.tif").path, compression: .lzw)
        var hostile = try HostileTIFF.write(to: images).map { ($0.path, $0.case.refusal) }
        let whole = TIFFBytes.file([.init(width: 64, height: 64, blocks: [Data(count: 4096)])])
        let truncated = images.appendingPathComponent("truncated.tif").path
        try whole.prefix(whole.count - 1000).write(to: URL(fileURLWithPath: truncated))
        hostile.append((truncated, "past the end of the"))

        let out = directory.appendingPathComponent("x.csv").path
        let run = try runProgram(netosis, ["segment", "--input", images.path, "--out", out], timeout: 120)
        XCTAssertFalse(run.timedOut, run.output)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("segment: 1/\(hostile.count + 1) images"), run.output)

        let rows = try String(contentsOfFile: ObjectTable.imagesCSVPath(for: out), encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertTrue(rows.contains { $0.hasPrefix(images.path + "/good.tif,ok,") }, rows.joined(separator: "\n"))
        for (path, refusal) in hostile {
            guard let row = rows.first(where: { $0.hasPrefix(path + ",") }) else { XCTFail("\(path): no row"); continue }
            XCTAssertTrue(row.hasPrefix(path + ",failed,"), row)
            XCTAssertTrue(row.contains(refusal), "\(row)\nexpected: \(refusal)")
            let warning = run.output.split(separator: "\n").first { $0.contains("warning: \(path): ") }
            XCTAssertNotNil(warning, "\(path): no warning line\n\(run.output)")
            XCTAssertTrue(warning?.contains(refusal) ?? false, "\(warning ?? "")\nexpected: \(refusal)")
        }
    }
}
