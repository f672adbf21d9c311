import Determinism
import Foundation
import Imaging
import Neural
import Storage
import TestSupport
import XCTest

/// Every failure a user can cause with a file or a flag is one line they can act on (issue 8,
/// items 2 and 6): runtime problems exit 1 with `netosis: error: <file>: <problem>` (a YAML problem
/// with its line and key, a fixed choice with the valid values); flags outside their documented
/// range exit 64 with the flag, the range and the value. No DecodingError, Cocoa or HDF5 stack text.
final class OneLineErrorTests: XCTestCase {
    var directory: URL!
    var netosis: String!
    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("one-line-errors")
        netosis = try productPath("netosis")
        try FileManager.default.createDirectory(atPath: path("folder.yaml"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: path("images"), withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    /// The output's lines without progress lines ("segment: 1/2 (50%), 0.1 s").
    func lines(_ output: String) -> [String] {
        output.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && $0.range(of: #"^\w+: \d+/\d+ \("#, options: .regularExpression) == nil }
    }

    /// A runtime failure: exit 1, exactly one line, naming `file`, holding every one of `words`.
    func assertRuntimeError(_ arguments: [String], file: String, _ words: [String],
                            sourceFile: StaticString = #filePath, line: UInt = #line) throws {
        let run = try runProgram(netosis, arguments, timeout: 120)
        let shown = lines(run.output)
        XCTAssertEqual(run.status, 1, run.output, file: sourceFile, line: line)
        XCTAssertEqual(shown.count, 1, "not one line:\n\(run.output)", file: sourceFile, line: line)
        let text = shown.first ?? ""
        XCTAssertTrue(text.hasPrefix("netosis: error: \(file): "), text, file: sourceFile, line: line)
        for word in words { XCTAssertTrue(text.contains(word), "'\(word)' missing in: \(text)", file: sourceFile, line: line) }
        for raw in ["DecodingError", "NSCocoaErrorDomain", "Code=", "Debug description", "H5E", "(null)"] {
            XCTAssertFalse(text.contains(raw), "raw error text in: \(text)", file: sourceFile, line: line)
        }
    }

    /// A usage error: exit 64, the message naming the flag, its range and the value, then the usage.
    func assertUsageError(_ arguments: [String], _ message: String,
                          sourceFile: StaticString = #filePath, line: UInt = #line) throws {
        let run = try runProgram(netosis, arguments, timeout: 60)
        XCTAssertEqual(run.status, 64, run.output, file: sourceFile, line: line)
        XCTAssertEqual(lines(run.output).first, "Error: " + message, run.output, file: sourceFile, line: line)
        XCTAssertTrue(run.output.contains("Usage: netosis"), run.output, file: sourceFile, line: line)
    }

    // MARK: YAML configurations

    func testSegmentationYAML() throws {
        let segment = { (config: String) in ["segment", "--input", self.path("images"), "--out", self.path("o.csv"), "--segmentation", config] }
        let enumValue = try write("seg.yaml", "background: blur\nsmoothing_sigma: 1.0\n\nthreshold: otsuu\n")
        try assertRuntimeError(segment(enumValue), file: enumValue,
                               ["line 4, column 1: threshold: 'otsuu' is not one of otsu, isodata, triangle"])
        let type = try write("type.yaml", "background: blur\nopening_radius: two\n")
        try assertRuntimeError(segment(type), file: type, ["line 2", "opening_radius", "whole number", "'two'"])
        let unknown = try write("unknown.yaml", "background: blur\nthreshhold: otsu\n")
        try assertRuntimeError(segment(unknown), file: unknown, ["line 2", "threshhold", "unknown key", "threshold"])
        for (name, value) in [("inf.yaml", ".inf"), ("nan.yaml", "nan"), ("big.yaml", "1e400")] {
            let config = try write(name, "threshold: otsu\nthreshold_scale: \(value)\n")
            try assertRuntimeError(segment(config), file: config, ["line 2", "threshold_scale", "not a finite number"])
        }
        let huge = try write("huge.yaml", "background_radius: 1e300\n")
        try assertRuntimeError(segment(huge), file: huge, ["line 1", "background_radius", "1…1000"])
        let syntax = try write("syntax.yaml", "threshold: [otsu\nwatershed: true\n")
        try assertRuntimeError(segment(syntax), file: syntax, ["line ", "not valid YAML"])
        try assertRuntimeError(segment(path("none.yaml")), file: path("none.yaml"), ["no such file"])
        try assertRuntimeError(segment(path("folder.yaml")), file: path("folder.yaml"), ["is a folder"])
    }

    func testClassMapYAML() throws {
        let segment = { (map: String) in ["segment", "--input", self.path("images"), "--out", self.path("o.csv"), "--class-map", map] }
        let enumValue = try write("map.yaml", "types:\n  1: non-NETotic\n  2: NETotc\n")
        try assertRuntimeError(segment(enumValue), file: enumValue,
                               ["line 3", "types.2", "'NETotc' is not one of other, non-NETotic, NETotic, ignore"])
        let type = try write("type.yaml", "types: [1, 2]\n")
        try assertRuntimeError(segment(type), file: type, ["line 1", "types", "expected a mapping"])
        let unknown = try write("unknown.yaml", "typs:\n  1: other\n")
        try assertRuntimeError(segment(unknown), file: unknown, ["line 1", "typs", "unknown key"])
        try assertRuntimeError(segment(path("folder.yaml")), file: path("folder.yaml"), ["is a folder"])
    }

    func testWellsYAML() throws {
        let prepare = { (wells: String) in
            ["prepare", "--images", self.path("images"), "--annotations", self.path("images"), "--out", self.path("p.h5"), "--wells-config", wells]
        }
        let enumValue = try write("wells.yaml", "fields:\n  columns: 6\n  order: snakey\n")
        try assertRuntimeError(prepare(enumValue), file: enumValue,
                               ["line 3", "fields.order", "'snakey' is not one of row-major, column-major, snake"])
        let type = try write("type.yaml", "fields:\n  columns: six\n")
        try assertRuntimeError(prepare(type), file: type, ["line 2", "fields.columns", "whole number", "'six'"])
        let unknown = try write("unknown.yaml", "fields:\n  colums: 6\n")
        try assertRuntimeError(prepare(unknown), file: unknown, ["line 2", "fields.colums", "unknown key"])
        let huge = try write("huge.yaml", "fields:\n  rows: 4\n  columns: 4611686018427387904\n")
        try assertRuntimeError(prepare(huge), file: huge, ["line 3", "fields.columns", "1…100"])
        try assertRuntimeError(prepare(path("none.yaml")), file: path("none.yaml"), ["no such file"])
    }

    func testModelYAML() throws {
        let tiny = "name: tiny\ngrowth_rate: 4\nblock_config: [2, 2]\nbn_size: 2\nnum_init_features: 8\ninput_size: 32\n"
        let bench = { (model: String) in ["bench", "--model", model, "--batch-size", "1", "--iterations", "1", "--warmup", "0"] }
        let type = try write("type.yaml", tiny.replacingOccurrences(of: "growth_rate: 4", with: "growth_rate: four"))
        try assertRuntimeError(bench(type), file: type, ["line 2", "growth_rate", "whole number"])
        let unknown = try write("unknown.yaml", tiny.replacingOccurrences(of: "bn_size", with: "bn_sise"))
        try assertRuntimeError(bench(unknown), file: unknown, ["line 4", "bn_sise", "unknown key"])
        let nan = try write("nan.yaml", tiny + "compression: .nan\n")
        try assertRuntimeError(bench(nan), file: nan, ["line 7", "compression", "not a finite number"])
        let huge = try write("huge.yaml", tiny.replacingOccurrences(of: "growth_rate: 4", with: "growth_rate: 4611686018427387904"))
        try assertRuntimeError(bench(huge), file: huge, ["growth_rate", "1…1024"])
        let missing = try write("missing.yaml", tiny.replacingOccurrences(of: "name: tiny\n", with: ""))
        try assertRuntimeError(bench(missing), file: missing, ["missing key 'name'"])
        try assertRuntimeError(bench(path("folder.yaml")), file: path("folder.yaml"), ["is a folder"])
    }

    // MARK: Damaged HDF5 inputs

    func testDamagedPatchesAndCheckpoint() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 11)
        let checkpoint = path("ck.h5")
        try WeightIO.save(model, to: checkpoint)
        let n = 4, s = model.config.inputSize
        let patches = path("patches.h5")
        do {
            let w = try PatchesWriter.create(path: patches, patchSize: s)
            let id = ImageIdentity(name: "a", plate: "p", well: "A01", field: "", group: "p")
            try w.append(PatchesImageRow(identity: id, path: "a.tif", width: 100, height: 100, objects: n),
                         patches: [UInt16](repeating: 500, count: n * s * s), labels: [Int8](repeating: 1, count: n),
                         centers: [Float](repeating: 16, count: 2 * n), split: .test)
            try w.writeAttributes(header: FileHeader(PatchesSchema.format, config: "{}"),
                                  settings: PatchesSettings(splitBy: .image, seed: 0, labelRadius: 6, mode: .segment,
                                                            valFraction: 0.1, testFraction: 0.2), runs: "[{}]")
            try w.flush()
        }
        func damaged(_ source: String, _ name: String, truncateTo: Int? = nil) throws -> String {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: source))
            if let truncateTo { bytes = bytes.prefix(truncateTo) } else { bytes = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }) }
            try bytes.write(to: URL(fileURLWithPath: path(name)))
            return path(name)
        }
        let infer = { (ck: String, p: String) in ["infer", "--checkpoint", ck, "--patches", p, "--out", self.path("pred.h5")] }
        let size = try FileManager.default.attributesOfItem(atPath: checkpoint)[.size] as! Int
        let truncatedCheckpoint = try damaged(checkpoint, "ck-cut.h5", truncateTo: size / 2)
        try assertRuntimeError(infer(truncatedCheckpoint, patches), file: truncatedCheckpoint,
                               ["checkpoint", "truncated (\(size / 2) of \(size) bytes)"])
        let garbage = try damaged(checkpoint, "garbage.h5")
        try assertRuntimeError(infer(garbage, patches), file: garbage, ["not an HDF5 file"])
        try assertRuntimeError(infer(path("folder.yaml"), patches), file: path("folder.yaml"), ["folder"])
        let patchesSize = try FileManager.default.attributesOfItem(atPath: patches)[.size] as! Int
        let truncatedPatches = try damaged(patches, "patches-cut.h5", truncateTo: patchesSize - 100)
        try assertRuntimeError(infer(checkpoint, truncatedPatches), file: truncatedPatches, ["patches", "truncated"])
        try assertRuntimeError(infer(checkpoint, garbage), file: garbage, ["not an HDF5 file"])
        // Bit flips inside the checkpoint: whatever breaks, one line naming the file.
        let original = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        for offset in stride(from: 64, to: size, by: size / 7) {
            var bytes = original
            for k in 0..<8 where offset + k < size { bytes[offset + k] ^= 0xA5 }
            let flipped = path("ck-flip-\(offset).h5")
            try bytes.write(to: URL(fileURLWithPath: flipped))
            let run = try runProgram(netosis, infer(flipped, patches) + ["--overwrite"], timeout: 120)
            XCTAssertTrue(run.status == 0 || run.status == 1, "offset \(offset): status \(run.status)\n\(run.output)")
            if run.status == 1 {
                let shown = lines(run.output)
                XCTAssertEqual(shown.count, 1, "offset \(offset):\n\(run.output)")
                XCTAssertTrue(shown.first?.hasPrefix("netosis: error: \(flipped)") ?? false, run.output)
            }
        }
    }

    // MARK: Numeric flags

    func testNumericFlagsOutsideTheirRanges() throws {
        let huge = "4611686018427387904"
        let infer = ["infer", "--checkpoint", "c.h5", "--patches", "p.h5", "--out", "o.h5"]
        try assertUsageError(infer + ["--batch-size", "0"], "--batch-size must be 1…65536 (got 0)")
        try assertUsageError(infer + ["--batch-size=-1"], "--batch-size must be 1…65536 (got -1)")
        try assertUsageError(infer + ["--batch-size", huge], "--batch-size must be 1…65536 (got \(huge))")
        try assertUsageError(["bench", "--batch-size", huge], "--batch-size must be 1…4096 (got \(huge))")
        try assertUsageError(["bench", "--threads", "0"], "--threads must be 1…1024 (got 0)")
        try assertUsageError(["bench", "--warmup=-1"], "--warmup must be 0…10000 (got -1)")
        let prepare = ["prepare", "--images", "i", "--annotations", "a", "--out", "p.h5"]
        try assertUsageError(prepare + ["--negatives", "100000"], "--negatives must be 0…10000 (got 100000)")
        try assertUsageError(prepare + ["--patch-size", huge], "--patch-size must be 8…1024 (got \(huge))")
        try assertUsageError(prepare + ["--val-fraction", "nan"], "--val-fraction must be ≥ 0 and < 1 (got nan)")
        try assertUsageError(prepare + ["--label-radius", "inf"], "--label-radius must be > 0 and ≤ 1000 px (got inf)")
        let segment = ["segment", "--input", "i", "--out", "o.csv"]
        try assertUsageError(segment + ["--coverage-types", "65"], "--coverage-types must be 1…64 (got 65)")
        try assertUsageError(segment + ["--coverage-types", "1", "--coverage-types=-1"], "--coverage-types must be 1…64 (got -1)")
        try assertUsageError(["synth", "--out", "s", "--plates", "0"], "--plates must be 1…99 (got 0)")
        try assertUsageError(["synth", "--out", "s", "--width", huge], "--width/--height must be 64…16384 px (got \(huge)×1024)")
    }
}
