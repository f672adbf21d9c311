import Foundation
import Imaging
import Storage
import TestSupport
import XCTest
@testable import Pipeline

/// `prepare` on the 27 real annotated fields of ../shared/data/netosis-sample (tiff/ + annotations/).
final class PrepareSampleTests: XCTestCase {
    var sample: URL!
    var work: URL!

    override func setUpWithError() throws {
        // Missing data: skipped on a laptop, a failure under CI (sharedDataDirectory throws).
        guard let url = try sharedDataDirectory("netosis-sample") else {
            throw XCTSkip("../shared/data/netosis-sample not present")
        }
        sample = url
        work = try makeTemporaryDirectory("prepare-sample")
    }

    override func tearDownWithError() throws {
        if let work { try? FileManager.default.removeItem(at: work) }
    }

    var tiff: String { sample.appendingPathComponent("tiff").path }
    var annotations: String { sample.appendingPathComponent("annotations").path }

    func run(_ options: PrepareOptions) throws -> (PrepareSummary, [String], [String]) {
        var logs: [String] = [], warnings: [String] = []
        let summary = try PrepareJob.run(options, log: { logs.append($0) }, warn: { warnings.append($0) })
        return (summary, logs, warnings)
    }

    /// Copies some fields (image + annotation) into a new folder pair.
    func subset(_ stems: [String], into name: String) throws -> (images: String, annotations: String) {
        let images = work.appendingPathComponent("\(name)/tiff"), notes = work.appendingPathComponent("\(name)/annotations")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        for stem in stems {
            try FileManager.default.copyItem(atPath: "\(tiff)/\(stem).tif", toPath: images.appendingPathComponent("\(stem).tif").path)
            try FileManager.default.copyItem(atPath: "\(annotations)/CellCounter_\(stem).xml",
                                             toPath: notes.appendingPathComponent("CellCounter_\(stem).xml").path)
        }
        return (images.path, notes.path)
    }

    func testPrepareWritesTheContractSchemaAndLabelsEveryObject() throws {
        let out = work.appendingPathComponent("patches.h5").path
        let (summary, logs, warnings) = try run(PrepareOptions(imagesDirectory: tiff, annotationsDirectory: annotations,
                                                               output: out, splitBy: .experiment, seed: 7))
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(summary.imagesWritten, 27)
        XCTAssertEqual(summary.imagesFailed, 0)
        XCTAssertTrue(logs.contains { $0.hasPrefix("[27/27] ") }, "progress lines")
        XCTAssertTrue(logs.contains { $0.hasPrefix("split  images  patches") }, "class-count table")
        // Label matching on real data: almost every usable marker lands on an object.
        let l = summary.labelling
        let usable = l.markers - l.ignoredMarkers - l.outsideMarkers
        let matched = Double(l.matchedMarkers) / Double(usable)
        print("real sample: \(summary.patchesWritten) patches, splits \(summary.splits.mapValues(\.classes)), markers matched \(String(format: "%.1f", 100 * matched))%")
        XCTAssertGreaterThan(matched, 0.9)
        XCTAssertGreaterThan(summary.splits["train"]!.classes[2], 0, "NETotic patches in train")

        // Schema (DESIGN "patches.h5").
        let file = try HDF5File.open(out)
        XCTAssertEqual(try file.stringAttribute("format"), "netosis.patches")
        XCTAssertEqual(try file.attribute("format_version", as: Int32.self), 4)
        XCTAssertEqual(try PatchDataset(path: out).task, "nucleus-classification")   // format 4's tiles are `netosis tiles`'
        // Format 3: every image's pixel statistics, for image-normalised window networks.
        let means: [Float] = try file.read("images/mean"), stds: [Float] = try file.read("images/std")
        XCTAssertEqual(means.count, try file.dataset("images/name").readStrings().count)
        XCTAssertTrue(zip(means, stds).allSatisfy { $0 > 0 && $1 > 0 && $0 < 65536 && $1 < 65536 })
        XCTAssertEqual(try file.attribute("patch_size", as: Int32.self), 112)
        XCTAssertEqual(try file.attribute("label_radius", as: Double.self), SegmentationConfig.standard.labelRadius)
        XCTAssertEqual(try file.stringAttribute("classes"), #"["other","non-NETotic","NETotic"]"#)
        XCTAssertEqual(try file.stringAttribute("tool_version"), ToolVersion.string)
        XCTAssertTrue(ToolVersion.string.hasPrefix(ToolVersion.release + "+"))
        XCTAssertFalse(try file.stringAttribute("created").isEmpty)
        let config = try JSONSerialization.jsonObject(with: Data(try file.stringAttribute("config").utf8)) as! [String: Any]
        XCTAssertEqual(config["split_by"] as? String, "experiment")
        let patches = try file.dataset("patches")
        let n = summary.patchesWritten
        XCTAssertEqual(try patches.shape(), [n, 112, 112])
        XCTAssertEqual(try patches.chunkShape(), [1, 112, 112])
        XCTAssertEqual(try patches.filters().sorted(), ["deflate", "shuffle"])
        XCTAssertEqual(try file.dataset("labels").shape(), [n])
        XCTAssertEqual(try file.dataset("split").shape(), [n])
        XCTAssertEqual(try file.dataset("center").shape(), [n, 2])
        let names = try file.dataset("images/name").readStrings()
        XCTAssertEqual(names.count, 27)
        for column in ["plate", "well", "field", "group"] {
            XCTAssertEqual(try file.dataset("images/\(column)").readStrings().count, 27)
        }
        XCTAssertEqual(try file.dataset("images/well").readStrings()[0], "B03")
        XCTAssertEqual(try file.dataset("images/field").readStrings()[0], "2_1")

        // Every patch is the image cut at its stored centre; image_index points at its image.
        let imageIndex: [Int32] = try file.read("image_index")
        let centers: [Float] = try file.read("center")
        let split: [UInt8] = try file.read("split")
        let groups = try file.dataset("images/group").readStrings()
        var groupSplit: [String: UInt8] = [:]
        for i in 0..<n {
            let g = groups[Int(imageIndex[i])]
            if let s = groupSplit[g] { XCTAssertEqual(s, split[i], "experiment \(g) in two splits") }
            groupSplit[g] = split[i]
        }
        XCTAssertEqual(Set(groupSplit.values), [0, 1, 2])
        for i in stride(from: 0, to: n, by: 97) {
            let image = try TIFFReader.read("\(tiff)/\(names[Int(imageIndex[i])]).tif")
            let expected = PatchExtractor.cut(image, centerX: Double(centers[2 * i]), centerY: Double(centers[2 * i + 1]))
            XCTAssertEqual(try patches.read(offset: [i, 0, 0], count: [1, 112, 112], as: UInt16.self), expected, "patch \(i)")
        }

        // The loader reads it back; class counts agree with the summary.
        let data = try PatchDataset(path: out)
        XCTAssertEqual(data.imageNames, names)
        XCTAssertEqual(data.classCounts(in: .train), summary.splits["train"]!.classes)
        XCTAssertEqual(data.classCounts(in: .test), summary.splits["test"]!.classes)

        // h5dump (the HDF5 tools) reads the header.
        if let h5dump = which("h5dump") {
            let dump = try runProgram(h5dump, ["-H", out])
            XCTAssertEqual(dump.status, 0, dump.output)
            for needle in ["DATASET \"patches\"", "H5T_STD_U16LE", "( \(n), 112, 112 ) / ( H5S_UNLIMITED, 112, 112 )",
                           "DATASET \"labels\"", "H5T_STD_I8LE", "DATASET \"split\"", "H5T_STD_U8LE",
                           "DATASET \"image_index\"", "H5T_STD_I32LE", "DATASET \"center\"", "H5T_IEEE_F32LE",
                           "GROUP \"images\"", "ATTRIBUTE \"format\"", "ATTRIBUTE \"label_radius\"", "ATTRIBUTE \"classes\""] {
                XCTAssertTrue(dump.output.contains(needle), "h5dump -H lacks \(needle)")
            }
        } else if ProcessInfo.processInfo.environment["CI"] != nil {
            XCTFail("h5dump not installed (hdf5-tools)")
        }
    }

    func testSameSeedGivesTheSameFileContents() throws {
        let (images, notes) = try subset(["21b_d1.2_1", "22a_b1.1_2", "24b_b4.1_3", "5_a3.2_2"], into: "det")
        func contents(_ name: String, seed: UInt64) throws -> ([UInt16], [Int8], [UInt8]) {
            let out = work.appendingPathComponent(name).path
            _ = try run(PrepareOptions(imagesDirectory: images, annotationsDirectory: notes, output: out, splitBy: .image, seed: seed))
            let f = try HDF5File.open(out)
            return (try f.read("patches"), try f.read("labels"), try f.read("split"))
        }
        let a = try contents("a.h5", seed: 11), b = try contents("b.h5", seed: 11)
        XCTAssertEqual(a.0, b.0); XCTAssertEqual(a.1, b.1); XCTAssertEqual(a.2, b.2)
        var differs = false
        for seed: UInt64 in [12, 13, 14, 15] where try contents("s\(seed).h5", seed: seed).2 != a.2 { differs = true }
        XCTAssertTrue(differs, "the seed moves images between splits")
    }

    func testAppendAddsNewImagesKeepsGroupSplitsAndSkipsDuplicates() throws {
        let firstStems = ["21b_b3.2_1", "22a_b1.1_2", "24a_d1.1_2", "24b_b4.0_1", "24b_d2.2_1", "5_c6.3_1"]
        let laterStems = ["22a_b1.1_3", "24b_b4.1_3", "24b_b4.3_2", "21b_h1.2_0", "22a_f2.1_0"]
        let first = try subset(firstStems, into: "first")
        let all = try subset(firstStems + laterStems, into: "all")
        let out = work.appendingPathComponent("append.h5").path
        let (s1, _, _) = try run(PrepareOptions(imagesDirectory: first.images, annotationsDirectory: first.annotations,
                                                output: out, splitBy: .well, seed: 3))
        let beforePatches: [UInt16], beforeSplits: [UInt8], beforeNames: [String]
        do {  // closed again before appending (HDF5 refuses a second, writable open)
            let before = try HDF5File.open(out)
            beforePatches = try before.read("patches")
            beforeSplits = try before.read("images/split")
            beforeNames = try before.dataset("images/name").readStrings()
        }

        // Without --append an existing file is refused, naming it.
        XCTAssertThrowsError(try run(PrepareOptions(imagesDirectory: all.images, annotationsDirectory: all.annotations,
                                                    output: out))) { XCTAssertTrue("\($0)".contains(out), "\($0)") }
        // Appending with another split rule would mix leakage units: refused.
        XCTAssertThrowsError(try run(PrepareOptions(imagesDirectory: all.images, annotationsDirectory: all.annotations,
                                                    output: out, splitBy: .image, append: true))) {
            XCTAssertTrue("\($0)".contains("--split-by"), "\($0)")
        }
        // So would other split fractions (the file's are used when the flags are omitted).
        XCTAssertThrowsError(try run(PrepareOptions(imagesDirectory: all.images, annotationsDirectory: all.annotations,
                                                    output: out, valFraction: 0.3, append: true))) {
            XCTAssertTrue("\($0)".contains("was written with --val-fraction 0.1; appending with 0.3"), "\($0)")
        }
        let configBefore = try HDF5File.open(out).stringAttribute("config")
        let (s2, _, _) = try run(PrepareOptions(imagesDirectory: all.images, annotationsDirectory: all.annotations,
                                                output: out, append: true))
        XCTAssertEqual(s2.imagesAlreadyPresent, firstStems.count)
        XCTAssertEqual(s2.imagesWritten, laterStems.count)
        XCTAssertEqual(s2.splitBy, .well, "split rule taken from the file")
        var after: HDF5File! = try HDF5File.open(out)
        // The creating run's config stays; `runs` records both runs, the first one byte for byte.
        XCTAssertEqual(try after.stringAttribute("config"), configBefore)
        let runs = try after.stringAttribute("runs")
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(runs.utf8)) as? [[String: Any]])
        XCTAssertEqual(list.count, 2)
        XCTAssertTrue(runs.hasPrefix("[" + configBefore + ","), runs)
        XCTAssertEqual(list[1]["images"] as? String, all.images)
        XCTAssertEqual(list[0]["images"] as? String, first.images)
        let names = try after.dataset("images/name").readStrings()
        XCTAssertEqual(names.count, firstStems.count + laterStems.count)
        XCTAssertEqual(Array(names.prefix(firstStems.count)), beforeNames)
        let afterPatches: [UInt16] = try after.read("patches")
        XCTAssertEqual(afterPatches.count, (s1.patchesWritten + s2.patchesWritten) * 112 * 112)
        XCTAssertEqual(Array(afterPatches.prefix(beforePatches.count)), beforePatches, "old patches untouched")
        let splits: [UInt8] = try after.read("images/split")
        XCTAssertEqual(Array(splits.prefix(firstStems.count)), beforeSplits)
        // Same well before and after the append → same split (22a B1, 24b B4).
        let wells = try after.dataset("images/well").readStrings(), groups = try after.dataset("images/group").readStrings()
        var wellSplit: [String: UInt8] = [:]
        for i in names.indices {
            let key = groups[i] + "/" + wells[i]
            if let s = wellSplit[key] { XCTAssertEqual(s, splits[i], "well \(key) in two splits after append") }
            wellSplit[key] = splits[i]
        }
        // Per-patch /split and /image_index agree with the per-image table.
        let imageIndex: [Int32] = try after.read("image_index"), patchSplit: [UInt8] = try after.read("split")
        for i in imageIndex.indices { XCTAssertEqual(patchSplit[i], splits[Int(imageIndex[i])]) }
        XCTAssertEqual(Set(imageIndex).count, names.count)
        after = nil

        // Appending the same folder again adds nothing.
        let (s3, _, _) = try run(PrepareOptions(imagesDirectory: all.images, annotationsDirectory: all.annotations,
                                                output: out, append: true))
        XCTAssertEqual(s3.imagesWritten, 0)
        XCTAssertEqual(try HDF5File.open(out).dataset("labels").shape(), [imageIndex.count])
    }

    /// Splits are planned before pixels are read: an unreadable image keeps its group's place,
    /// and every other image lands in the split it gets when all are readable.
    func testAnUnreadableImageDoesNotMoveTheOthersSplits() throws {
        let stems = ["21b_b3.2_1", "22a_b1.1_2", "24a_d1.1_2", "24b_b4.0_1", "24b_d2.2_1", "5_c6.3_1",
                     "22a_b1.1_3", "24b_b4.1_3", "21b_h1.2_0", "22a_f2.1_0"]
        func splits(_ folder: (images: String, annotations: String), _ name: String) throws -> [String: UInt8] {
            let out = work.appendingPathComponent(name).path
            _ = try run(PrepareOptions(imagesDirectory: folder.images, annotationsDirectory: folder.annotations,
                                       output: out, splitBy: .image, seed: 5, mode: .point))
            let file = try HDF5File.open(out)
            let names = try file.dataset("images/name").readStrings()
            let split: [UInt8] = try file.read("images/split")
            return Dictionary(uniqueKeysWithValues: zip(names, split))
        }
        let clean = try splits(try subset(stems, into: "clean"), "clean.h5")
        let damaged = try subset(stems, into: "damaged")
        for broken in ["22a_b1.1_2", "24b_b4.1_3"] {  // truncated to their headers
            let path = damaged.images + "/\(broken).tif"
            try Data(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(300)).write(to: URL(fileURLWithPath: path))
        }
        let withFailures = try splits(damaged, "damaged.h5")
        XCTAssertEqual(withFailures.count, stems.count - 2)
        XCTAssertEqual(Set(clean.values), [0, 1, 2], "the test needs all three splits: \(clean)")
        for (name, split) in withFailures { XCTAssertEqual(split, clean[name], "\(name) moved when other images failed") }
    }

    func testPointModeCutsAtMarkersPlusTenNegativesPerImage() throws {
        let stems = ["21b_h1.2_0", "21b_h3.2_1"]
        let (images, notes) = try subset(stems, into: "point")
        let out = work.appendingPathComponent("point.h5").path
        let (summary, _, _) = try run(PrepareOptions(imagesDirectory: images, annotationsDirectory: notes, output: out,
                                                     seed: 1, mode: .point))
        // MANIFEST: 21b_h1.2_0 types 1/2/4/5 = 9/4/1/0, 21b_h3.2_1 = 5/9/7/2 → markers + 10 negatives each.
        let counts = [summary.splits.values.map { $0.classes[0] }.reduce(0, +),
                      summary.splits.values.map { $0.classes[1] }.reduce(0, +),
                      summary.splits.values.map { $0.classes[2] }.reduce(0, +)]
        XCTAssertEqual(counts, [1 + 0 + 7 + 2 + 20, 9 + 5, 4 + 9])
        XCTAssertEqual(try HDF5File.open(out).stringAttribute("mode"), "point")
    }

    /// The CLI alone and under mpirun with 2 ranks writes identical data.
    func testCommandLineOutputIsTheSameForOneAndTwoRanks() throws {
        let (images, notes) = try subset(["21b_d1.2_1", "22a_b1.1_2", "24b_b4.1_3"], into: "cli")
        let netosis = try productPath("netosis")
        let one = work.appendingPathComponent("one.h5").path, two = work.appendingPathComponent("two.h5").path
        let args = ["prepare", "--images", images, "--annotations", notes, "--split-by", "well", "--seed", "9", "--verbose"]
        let r1 = try runProgram(netosis, args + ["--out", one], timeout: 300)
        XCTAssertEqual(r1.status, 0, r1.output)
        XCTAssertTrue(r1.output.contains("split  images  patches"), r1.output)
        XCTAssertTrue(r1.output.contains("[3/3] "), r1.output)
        let r2 = try mpirun(2, netosis, args + ["--out", two], timeout: 300)
        XCTAssertEqual(r2.status, 0, r2.output)
        try assertSameData(one, two)
        // Appending under 2 ranks (only rank 0 opens the file) matches appending alone.
        let more = try subset(["21b_d1.2_1", "22a_b1.1_2", "24b_b4.1_3", "22a_b1.1_3", "24b_b4.3_2"], into: "cli-more")
        let appendArgs = ["prepare", "--images", more.images, "--annotations", more.annotations, "--append"]
        let a1 = try runProgram(netosis, appendArgs + ["--out", one], timeout: 300)
        XCTAssertEqual(a1.status, 0, a1.output)
        let a2 = try mpirun(2, netosis, appendArgs + ["--out", two], timeout: 300)
        XCTAssertEqual(a2.status, 0, a2.output)
        XCTAssertTrue(a2.output.contains("wrote 2 image(s)"), a2.output)
        try assertSameData(one, two)
    }

    func assertSameData(_ one: String, _ two: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try HDF5File.open(one), b = try HDF5File.open(two)
        XCTAssertEqual(try a.read("patches", as: UInt16.self), try b.read("patches", as: UInt16.self), file: file, line: line)
        XCTAssertEqual(try a.read("labels", as: Int8.self), try b.read("labels", as: Int8.self), file: file, line: line)
        XCTAssertEqual(try a.read("split", as: UInt8.self), try b.read("split", as: UInt8.self), file: file, line: line)
        XCTAssertEqual(try a.read("center", as: Float.self), try b.read("center", as: Float.self), file: file, line: line)
        XCTAssertEqual(try a.dataset("images/name").readStrings(), try b.dataset("images/name").readStrings(),
                       file: file, line: line)
    }
}
