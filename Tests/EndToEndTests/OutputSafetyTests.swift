import Foundation
import Imaging
import Storage
import TestSupport
import XCTest

/// Every verb's output path (issue 8): never an input, never another kind of file, an earlier
/// output only with --overwrite, a folder checked before work, and on any failure — a full
/// disk, a signal, a failed write — the previous file or no file, never a half one, and no
/// temporary left behind.
final class OutputSafetyTests: XCTestCase {
    var directory: URL!
    var netosis: String!
    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("outputs")
        netosis = try productPath("netosis")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func bytes(_ p: String) -> Data? { FileManager.default.contents(atPath: p) }

    /// Temporaries (`.NAME.tmp-…`) left in a folder.
    func temporaries(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains(".tmp-") }
    }

    /// The last line netosis printed (its error line).
    func errorLine(_ run: ProcessResult) -> String {
        run.output.split(separator: "\n").last.map(String.init) ?? ""
    }

    /// images/ with two good fields and annotations/ with a points CSV for the first.
    func imageFolder() throws -> (images: String, annotations: String) {
        let images = path("images"), notes = path("annotations")
        for d in [images, notes] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try TIFFWriter.write(SmallInputs.field([(30, 30), (100, 60)]), to: images + "/w1.tif", compression: .lzw)
        try TIFFWriter.write(SmallInputs.field([(60, 60)]), to: images + "/w2.tif", compression: .none)
        try Data("x,y,type\n30,30,1\n100,60,2\n".utf8).write(to: URL(fileURLWithPath: notes + "/w1.csv"))
        return (images, notes)
    }

    func testAnOutputThatIsAnInputIsRefusedAndTheInputKept() throws {
        let checkpoint = path("ck.h5"), patches = path("patches.h5")
        _ = try SmallInputs.checkpoint(checkpoint)
        try SmallInputs.patches(patches, count: 3, size: 32)
        let before = (bytes(checkpoint), bytes(patches))
        try FileManager.default.createSymbolicLink(atPath: path("link.h5"), withDestinationPath: checkpoint)
        for out in [patches, checkpoint, path("link.h5")] {
            let run = try runProgram(netosis, ["infer", "--checkpoint", checkpoint, "--patches", patches, "--out", out, "--overwrite"])
            XCTAssertEqual(run.status, 1, run.output)
            XCTAssertTrue(errorLine(run).hasPrefix("netosis: error: \(out): is also an input of this run"), run.output)
        }
        XCTAssertEqual(bytes(checkpoint), before.0)
        XCTAssertEqual(bytes(patches), before.1)

        // segment: the output may not be one of the annotation files either.
        let (images, notes) = try imageFolder()
        let csv = notes + "/w1.csv", original = bytes(csv)
        let run = try runProgram(netosis, ["segment", "--input", images, "--annotations", notes, "--out", csv, "--overwrite"])
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(errorLine(run).contains("\(csv): is also an input of this run"), run.output)
        XCTAssertEqual(bytes(csv), original)

        // prepare: its output may not be one of its images; bench --json may not replace another file.
        let image = images + "/w1.tif", imageBytes = bytes(image)
        let prepare = try runProgram(netosis, ["prepare", "--images", images, "--annotations", notes, "--out", image, "--overwrite"])
        XCTAssertEqual(prepare.status, 1, prepare.output)
        XCTAssertTrue(errorLine(prepare).contains("\(image): is also an input of this run"), prepare.output)
        XCTAssertEqual(bytes(image), imageBytes)
        let bench = try runProgram(netosis, ["bench", "--model", "densenet-tiny", "--batch-size", "2", "--iterations", "1",
                                             "--json", csv, "--overwrite"])
        XCTAssertEqual(bench.status, 1, bench.output)
        XCTAssertTrue(errorLine(bench).contains("\(csv): exists and is not a netosis bench report (JSON)"), bench.output)
        XCTAssertEqual(bytes(csv), original)
    }

    func testOnlyTheVerbsOwnEarlierOutputIsReplacedAndOnlyWithOverwrite() throws {
        let (images, _) = try imageFolder()
        let patches = path("patches.h5")
        try SmallInputs.patches(patches, count: 1, size: 8)
        let foreign = path("notes.csv")
        try Data("my,own\n1,2\n".utf8).write(to: URL(fileURLWithPath: foreign))
        for (out, expected) in [(patches, "exists and is not a netosis object table (netosis.segmentation)"),
                                (foreign, "exists and is not a netosis object table (CSV)")] {
            let kept = bytes(out)
            let run = try runProgram(netosis, ["segment", "--input", images, "--out", out, "--overwrite"])
            XCTAssertEqual(run.status, 1, run.output)
            XCTAssertTrue(errorLine(run).contains("\(out): \(expected)"), run.output)
            XCTAssertEqual(bytes(out), kept)
        }
        let table = path("objects.csv")
        XCTAssertEqual(try runProgram(netosis, ["segment", "--input", images, "--out", table]).status, 0)
        let again = try runProgram(netosis, ["segment", "--input", images, "--out", table])
        XCTAssertEqual(again.status, 1, again.output)
        XCTAssertTrue(errorLine(again).contains("\(table): exists; pass --overwrite to replace it"), again.output)
        XCTAssertEqual(try runProgram(netosis, ["segment", "--input", images, "--out", table, "--overwrite"]).status, 0)
    }

    func testARunThatReadsNoImageLeavesTheEarlierTable() throws {
        let (images, _) = try imageFolder()
        let table = path("objects.csv")
        XCTAssertEqual(try runProgram(netosis, ["segment", "--input", images, "--out", table]).status, 0)
        let before = (bytes(table), bytes(path("objects.images.csv")))
        let broken = path("broken")
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try Data("this is not a TIFF".utf8).write(to: URL(fileURLWithPath: broken + "/x.tif"))
        let run = try runProgram(netosis, ["segment", "--input", broken, "--out", table, "--overwrite"])
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(errorLine(run).contains("no image could be segmented"), run.output)
        XCTAssertEqual(bytes(table), before.0)
        XCTAssertEqual(bytes(path("objects.images.csv")), before.1)
    }

    /// A location that cannot be written fails at once, before any image is read.
    func testAnUnwritableFolderFailsBeforeTheWork() throws {
        let (images, _) = try imageFolder()
        let run = try runProgram(netosis, ["segment", "--input", images, "--out", "/proc/netosis-test/objects.csv"])
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(errorLine(run).contains("/proc/netosis-test/objects.csv: cannot create folder /proc/netosis-test"), run.output)
        XCTAssertFalse(run.output.contains("segment: 1/2"), "work started before the output was checked: \(run.output)")
        // An output path that is a folder (was: `AtomicFile Code=21 "(null)"` after all the work).
        let folder = path("table.csv")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let intoFolder = try runProgram(netosis, ["segment", "--input", images, "--out", folder, "--overwrite"])
        XCTAssertEqual(intoFolder.status, 1, intoFolder.output)
        XCTAssertEqual(errorLine(intoFolder), "netosis: error: \(folder): is a folder; give a file path for the output")
        let infer = try runProgram(netosis, ["infer", "--checkpoint", path("none.h5"), "--patches", path("none.h5"),
                                             "--out", "/proc/self/predictions.h5"])
        XCTAssertEqual(infer.status, 1, infer.output)
        XCTAssertTrue(errorLine(infer).contains("/proc/self/predictions.h5: cannot write in folder /proc/self"), infer.output)
    }

    /// SIGTERM at fixed points (test-only NETOSIS_FAULT hook): no output, no temporary; an
    /// interrupted append leaves the earlier file byte for byte.
    func testSignalsAtFixedPointsLeaveThePreviousFileOrNone() throws {
        let (images, notes) = try imageFolder()
        // segment killed just before its rename, and after its first image.
        for fault in ["atomic-rename:1:term", "segment-image:1:term"] {
            let out = path("killed-\(fault.prefix(7)).h5")
            let run = try runProgram(netosis, ["segment", "--input", images, "--out", out], environment: ["NETOSIS_FAULT": fault])
            XCTAssertTrue(run.signaled && run.status == SIGTERM, "\(fault): \(run.status) \(run.output)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), fault)
            XCTAssertEqual(temporaries(in: directory.path), [], fault)
        }
        // prepare: a new file killed mid-way, then an append killed mid-way.
        let patches = path("p.h5")
        let one = path("one")
        try FileManager.default.createDirectory(atPath: one, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: images + "/w1.tif", toPath: one + "/w1.tif")
        let killed = try runProgram(netosis, ["prepare", "--images", images, "--annotations", notes, "--out", patches],
                                    environment: ["NETOSIS_FAULT": "prepare-image:1:term"])
        XCTAssertTrue(killed.signaled, killed.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: patches))
        XCTAssertEqual(temporaries(in: directory.path), [])
        try Data("x,y,type\n60,60,2\n".utf8).write(to: URL(fileURLWithPath: notes + "/w2.csv"))
        XCTAssertEqual(try runProgram(netosis, ["prepare", "--images", one, "--annotations", notes, "--out", patches]).status, 0)
        let before = bytes(patches)
        for fault in ["prepare-image:1:term", "atomic-rename:1:term", "prepare-image:1:fail"] {
            let run = try runProgram(netosis, ["prepare", "--images", images, "--annotations", notes, "--out", patches, "--append"],
                                     environment: ["NETOSIS_FAULT": fault])
            XCTAssertNotEqual(run.status, 0, run.output)
            if fault.hasSuffix("fail") {
                XCTAssertFalse(run.signaled)
                XCTAssertTrue(errorLine(run).hasPrefix("netosis: error: \(patches): not written (injected fault"), run.output)
            }
            XCTAssertEqual(bytes(patches), before, "\(fault) changed the earlier file")
            XCTAssertEqual(temporaries(in: directory.path), [], fault)
        }
        let appended = try runProgram(netosis, ["prepare", "--images", images, "--annotations", notes, "--out", patches, "--append"])
        XCTAssertEqual(appended.status, 0, appended.output)
        XCTAssertEqual(try PatchDataset(path: patches).imageNames, ["w1", "w2"])
    }

    /// Temporaries of dead processes on this host are removed by the next run; a live one is kept.
    func testStaleTemporariesOfDeadProcessesAreRemoved() throws {
        let (images, _) = try imageFolder()
        let dead = path(".objects.csv.tmp-\(TemporaryFiles.host)-99999999-abc")
        let live = path(".objects.csv.tmp-\(TemporaryFiles.host)-\(getpid())-abc")
        let otherHost = path(".objects.csv.tmp-elsewhere-99999999-abc")
        for p in [dead, live, otherHost] { try Data("x".utf8).write(to: URL(fileURLWithPath: p)) }
        XCTAssertEqual(try runProgram(netosis, ["segment", "--input", images, "--out", path("objects.csv")]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live))
        XCTAssertTrue(FileManager.default.fileExists(atPath: otherHost))
    }

    /// A full disk (a small tmpfs) at several points of segment, infer and prepare: exit 1 with one
    /// line naming the user's file, and the previous file or none. Needs root to mount (CI is root).
    func testAFullDiskLeavesThePreviousFileOrNone() throws {
        let mountPoint = path("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard let mount = which("mount"), try runProgram(mount, ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint]).status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root): the full-disk case is not exercised")
        }
        defer { _ = try? runProgram(which("umount")!, [mountPoint]) }
        let (images, notes) = try imageFolder()
        let checkpoint = path("ck.h5"), patches = path("patches.h5")
        _ = try SmallInputs.checkpoint(checkpoint)
        try SmallInputs.patches(patches, count: 300, size: 32)
        let runs: [(String, [String])] = [
            ("objects.h5", ["segment", "--input", images, "--out"]),
            ("objects.csv", ["segment", "--input", images, "--out"]),
            ("predictions.h5", ["infer", "--checkpoint", checkpoint, "--patches", patches, "--out"]),
            ("patches.h5", ["prepare", "--images", images, "--annotations", notes, "--out"]),
        ]
        // Free space from none to some: the disk fills at different points of each write.
        for free in [0, 2_000, 6_000, 20_000] {
            for (name, arguments) in runs {
                let out = mountPoint + "/" + name
                for p in [out, ObjectTable.imagesCSVPath(for: out)] { try? FileManager.default.removeItem(atPath: p) }
                let filler = mountPoint + "/filler"
                try? FileManager.default.removeItem(atPath: filler)
                _ = try runProgram("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=1024", "count=1024"])  // fills the disk
                try? FileManager.default.removeItem(atPath: filler)
                _ = try runProgram("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=1024", "count=\(max(0, 256 - 4 - free / 1024 - 1))"])
                let run = try runProgram(netosis, arguments + [out], timeout: 120)
                XCTAssertFalse(run.signaled, "\(name), \(free) B free: killed by signal \(run.status): \(run.output)")
                if run.status == 0 {
                    // It fitted: then the file must be complete and valid.
                    if name.hasSuffix(".h5") { XCTAssertTrue(HDF5File.isHDF5(out), "\(name): \(run.output)") }
                } else {
                    XCTAssertEqual(run.status, 1, run.output)
                    let line = errorLine(run)
                    XCTAssertTrue(line.hasPrefix("netosis: error: \(mountPoint)/") && line.contains(": not written ("),
                                  "\(name), \(free) B free: \(run.output)")
                    XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(name): a half file was left")
                    if name.hasSuffix(".csv") {
                        XCTAssertFalse(FileManager.default.fileExists(atPath: ObjectTable.imagesCSVPath(for: out)),
                                       "\(name): half of the pair was left")
                    }
                }
                XCTAssertEqual(temporaries(in: mountPoint), [], "\(name), \(free) B free")
            }
            // synth into a full disk: one line, no signal, no temporary, no half file listed.
            let set = mountPoint + "/set"
            try? FileManager.default.removeItem(atPath: set)
            let synth = try runProgram(netosis, ["synth", "--out", set, "--plates", "1", "--wells", "2", "--width", "336",
                                                 "--height", "256"], timeout: 120)
            XCTAssertFalse(synth.signaled, "synth, \(free) B free: \(synth.output)")
            if synth.status != 0 {
                XCTAssertEqual(synth.status, 1, synth.output)
                XCTAssertTrue(errorLine(synth).hasPrefix("netosis: error: \(mountPoint)/"), synth.output)
            }
            for folder in [set, set + "/images", set + "/annotations"] { XCTAssertEqual(temporaries(in: folder), [], folder) }
        }

        // An earlier output on a disk that is now full stays byte for byte when --overwrite fails.
        for (name, arguments) in runs {
            let out = mountPoint + "/" + name
            for p in [out, ObjectTable.imagesCSVPath(for: out), mountPoint + "/filler"] { try? FileManager.default.removeItem(atPath: p) }
            try? FileManager.default.removeItem(atPath: mountPoint + "/set")
            let first = try runProgram(netosis, arguments + [out], timeout: 120)
            guard first.status == 0 else { continue }  // did not fit even on the empty disk
            let earlier = bytes(out)
            _ = try runProgram("/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=1024", "count=1024"])
            let again = try runProgram(netosis, arguments + [out, "--overwrite"], timeout: 120)
            XCTAssertFalse(again.signaled, again.output)
            XCTAssertEqual(again.status, 1, "\(name): \(again.output)")
            XCTAssertEqual(bytes(out), earlier, "\(name): the earlier output changed on a full disk")
            XCTAssertEqual(temporaries(in: mountPoint), [], name)
        }
    }

    /// Short relative output names work (a one-letter `--out` once crashed synth).
    func testAOneLetterRelativeOutputFolder() throws {
        let run = try runProgram(netosis, ["synth", "--out", "x", "--plates", "1", "--wells", "1", "--width", "336",
                                           "--height", "256"], directory: directory.path)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("x/images/plate01_A01.tif")))
    }

    /// Patch buffers are checked against memory before they are allocated (in-range flags that
    /// once aborted prepare with a 27 GB allocation): the image is recorded as failed, one line.
    func testPatchesThatDoNotFitAreRefusedBeforeAllocation() throws {
        let (images, notes) = try imageFolder()
        let run = try runProgram(netosis, ["prepare", "--images", images, "--annotations", notes, "--out", path("p.h5"),
                                           "--mode", "point", "--negatives", "10000", "--patch-size", "1024"],
                                 environment: ["SLURM_MEM_PER_NODE": "2000"], timeout: 120)
        XCTAssertFalse(run.signaled, "killed by signal \(run.status): \(run.output)")
        XCTAssertTrue(run.output.contains("warning: \(images)/w1.tif: 10002 patches of 1024×1024 px need ≈ 63 GB but this rank may use 2.1 GB"),
                      run.output)
    }

    /// A file-size limit (ulimit -f) is a write error with one line, not a SIGXFSZ death.
    func testAFileSizeLimitIsAWriteError() throws {
        guard let prlimit = which("prlimit") else { throw XCTSkip("prlimit not installed") }
        let set = path("set")
        let run = try runProgram(prlimit, ["--fsize=8000000", netosis, "synth", "--full-size", "--plates", "1", "--wells", "1",
                                           "--out", set], timeout: 300)
        XCTAssertFalse(run.signaled, "killed by signal \(run.status): \(run.output)")
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(errorLine(run).hasPrefix("netosis: error: \(set)/images/plate01_A01.tif: not written"), run.output)
        XCTAssertEqual(temporaries(in: set + "/images"), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: set + "/images/plate01_A01.tif"))
    }
}
