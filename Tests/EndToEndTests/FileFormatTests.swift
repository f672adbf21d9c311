import Foundation
import Imaging
import Neural
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// Every reader of every netosis file refuses a file of another format, or of a newer
/// format_version, with one line naming the file (docs/file-formats.md "Versions").
final class FileFormatTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("formats") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// One valid, small file of each kind.
    func makeFiles() throws -> [String: String] {
        let patches = path("patches.h5")
        try SmallInputs.patches(patches, count: 1, size: 8)
        let checkpoint = path("ck.h5")
        let model = try SmallInputs.checkpoint(checkpoint)
        let predictions = path("pred.h5")
        try PredictionsFile.write(path: predictions, logits: [0, 1, 2], classes: 3, checkpoint: checkpoint,
                                  config: .init(model: model.modelConfig, normalization: .zscore, batchSize: 1, patches: patches))
        let objects = path("objects.h5")
        let nucleus = Nucleus(label: 1, centroidX: 3, centroidY: 4, minX: 1, minY: 2, maxX: 5, maxY: 6, area: 20,
                              meanIntensity: 100, maxIntensity: 200, solidity: 0.9, eccentricity: 0.3)
        try ObjectTable.writeHDF5([SegmentedImage(path: "a.tif", status: "ok", error: "", width: 10, height: 10,
                                                  seconds: 0.1, nuclei: [nucleus])],
                                  to: objects, configJSON: "{}")
        return [PatchesSchema.format.name: patches, WeightIO.format.name: checkpoint,
                PredictionsFile.format.name: predictions, ObjectTable.format.name: objects]
    }

    /// Every reader, by the format it reads.
    let readers: [(String, String, (String) throws -> Void)] = [
        ("PatchDataset", "netosis.patches", { _ = try PatchDataset(path: $0) }),
        ("prepare --append", "netosis.patches", { _ = try PatchesWriter.inspect(path: $0) }),
        ("infer --patches", "netosis.patches", { _ = try InferJob.openPatches($0) }),
        ("checkpoint weights", "netosis.checkpoint", { _ = try WeightIO.loadModel(path: $0) }),
        ("checkpoint config", "netosis.checkpoint", { _ = try WeightIO.config(atPath: $0) }),
        ("checkpoint training state", "netosis.checkpoint", { _ = try TrainingCheckpoint.read(path: $0) }),
        ("predictions", "netosis.predictions", { _ = try PredictionsFile.read($0) }),
        ("object table", "netosis.segmentation", { _ = try ObjectTable.readHDF5($0) }),
    ]

    func copy(_ source: String, as name: String, _ change: (HDF5File) throws -> Void) throws -> String {
        let target = path(name)
        try FileManager.default.copyItem(atPath: source, toPath: target)
        let file = try HDF5File.open(target, mode: .readWrite)
        try change(file)
        try file.flush()
        return target
    }

    func testEveryReaderReadsItsOwnFormatAndRefusesOthersAndNewerVersions() throws {
        let files = try makeFiles()
        for (reader, format, read) in readers {
            let good = try XCTUnwrap(files[format])
            XCTAssertNoThrow(try read(good), "\(reader) cannot read a fresh \(format) file")

            // Another kind of netosis file.
            for (otherFormat, other) in files where otherFormat != format {
                do {
                    try read(other)
                    XCTFail("\(reader) accepted a \(otherFormat) file")
                } catch {
                    XCTAssertEqual("\(error)", "\(other): is a \(otherFormat) file, expected a \(format) file (\(hint(format)))", reader)
                }
            }
            // A newer version of its own format.
            let newer = try copy(good, as: "\(reader)-newer.h5") { try $0.setAttribute("format_version", Int32(99)) }
            do {
                try read(newer)
                XCTFail("\(reader) accepted format_version 99")
            } catch {
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("\(newer): \(format) format_version 99 is newer than this netosis"), "\(reader): \(text)")
                XCTAssertFalse(text.contains("\n"), text)
            }
            // A renamed format attribute.
            let renamed = try copy(good, as: "\(reader)-renamed.h5") { try $0.setAttribute("format", "someone.else") }
            XCTAssertThrowsError(try read(renamed), reader) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(renamed): is a someone.else file, expected a \(format) file"), "\(error)")
            }
        }
    }

    /// Version 1 of patches.h5 (before `runs`) is still read and can be appended to (additive change).
    func testOlderPatchesVersionIsReadAndExtended() throws {
        let files = try makeFiles()
        let v1 = try copy(try XCTUnwrap(files[PatchesSchema.format.name]), as: "v1.h5") { file in
            try file.setAttribute("format_version", Int32(1))
            try file.deleteAttribute("runs")
        }
        XCTAssertEqual(try PatchDataset(path: v1).header?.formatVersion, 1)
        let stored = try PatchesWriter.inspect(path: v1)
        XCTAssertEqual(stored.runs, "")
        XCTAssertEqual(try PrepareJob.runsJSON(appending: #"{"b":2}"#, to: stored, path: v1), #"[{},{"b":2}]"#)
        let older = try copy(v1, as: "v0.h5") { try $0.setAttribute("format_version", Int32(0)) }
        XCTAssertThrowsError(try PatchDataset(path: older)) {
            XCTAssertEqual("\($0)", "\(older): netosis.patches format_version 0 is older than this netosis reads (from 1); re-create it with `netosis prepare` or `netosis tiles`")
        }
    }

    /// Version 1 of predictions.h5 (before /valid) is still read, every row valid (additive change).
    func testOlderPredictionsVersionReadsAsAllValid() throws {
        let v1 = path("pred-v1.h5")
        do {
            let file = try HDF5File.create(v1)
            try FileHeader(format: PredictionsFile.format.name, formatVersion: 1, created: FileHeader.now(),
                           toolVersion: "0.1.0", config: "{}").write(to: file)
            try file.write("logits", [Float](repeating: 0, count: 6), shape: [2, 3])
            try file.write("probs", [Float](repeating: 1 / 3, count: 6), shape: [2, 3])
            try file.flush()
        }
        let contents = try PredictionsFile.read(v1)
        XCTAssertEqual(contents.header.formatVersion, 1)
        XCTAssertEqual(contents.valid, [1, 1])
    }

    func hint(_ format: String) -> String {
        let made = [PatchesSchema.format, WeightIO.format, PredictionsFile.format, ObjectTable.format]
            .first { $0.name == format }!.madeBy
        return "make one with `\(made)`"
    }

    /// Through the binary: one line on stderr naming the file, exit 1, no output written.
    func testInferRefusesACheckpointGivenAsPatches() throws {
        let files = try makeFiles()
        let netosis = try productPath("netosis")
        let ck = try XCTUnwrap(files[WeightIO.format.name])
        let run = try runProgram(netosis, ["infer", "--checkpoint", ck, "--patches", ck, "--out", path("out.h5")], timeout: 120)
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(run.output.contains("\(ck): is a netosis.checkpoint file, expected a netosis.patches file (make one with `netosis prepare` or `netosis tiles`)"),
                      run.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.h5")))
    }
}
