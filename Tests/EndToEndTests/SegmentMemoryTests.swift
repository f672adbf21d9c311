import Foundation
import Imaging
import TestSupport
import XCTest

/// An image too large for this rank's memory is recorded as failed from its headers, before its
/// pixels are read; the other images are segmented.
final class SegmentMemoryTests: XCTestCase {
    func testAnImageThatDoesNotFitIsRefusedFromItsHeaders() throws {
        let directory = try makeTemporaryDirectory("segment-memory")
        defer { try? FileManager.default.removeItem(at: directory) }
        let images = directory.appendingPathComponent("images").path
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try TIFFWriter.write(SmallInputs.field([(40, 40)]), to: images + "/small.tif", compression: .deflate)
        try TIFFWriter.write(GrayImage(width: 4032, height: 3072, bitDepth: 16, fill: 200), to: images + "/well.tif",
                             compression: .deflate)
        let out = directory.appendingPathComponent("objects.csv").path
        // 400 MiB for the job: the 160×120 field fits, the 4032×3072 well (≈ 200 MB + 256 MB) does not.
        let run = try runProgram(try productPath("netosis"), ["segment", "--input", images, "--out", out],
                                 environment: ["SLURM_MEM_PER_NODE": "400"])
        XCTAssertEqual(run.status, 0, run.output)
        // (Slurm counts MiB: 400 MiB = 419 MB; 4032 × 3072 px × 16 B + 256 MiB = 467 MB.)
        XCTAssertTrue(run.output.contains("warning: \(images)/well.tif: is 4032×3072 px; segmenting it needs ≈ 467 MB but this rank may use 419 MB (Slurm allocation 419 MB): run fewer ranks per node or ask for more memory"),
                      run.output)
        XCTAssertTrue(run.output.contains("segment: 1/2 images, 1 objects"), run.output)
        // Without the limit both are segmented.
        let free = try runProgram(try productPath("netosis"), ["segment", "--input", images, "--out", out, "--overwrite"])
        XCTAssertTrue(free.output.contains("segment: 2/2 images"), free.output)
    }
}
