import Foundation
import TestSupport
import XCTest

/// `netosis synth` rerun into an existing folder (docs/synthetic.md "Rerunning"): an interrupted set
/// is resumed to the bytes of an uninterrupted run, another set is replaced only with --overwrite and
/// only through its manifest, and a file synth did not write is never removed or replaced.
final class SynthRerunTests: XCTestCase {
    let small = ["--plates", "1", "--wells", "3", "--width", "336", "--height", "256"]
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("synth-rerun")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func synth(_ out: String, _ arguments: [String] = [], seed: Int = 5, ranks: Int = 1,
               stopAfterWells: Int? = nil) throws -> ProcessResult {
        let netosis = try productPath("netosis")
        let all = ["synth", "--out", out, "--seed", "\(seed)"] + small + arguments
        let environment = stopAfterWells.map { ["NETOSIS_SYNTH_STOP_AFTER_WELLS": "\($0)"] } ?? [:]
        let result = ranks == 1 ? try runProgram(netosis, all, environment: environment, timeout: 120)
                                : try mpirun(ranks, netosis, all, timeout: 120, environment: environment)
        XCTAssertFalse(result.timedOut, result.output)
        return result
    }

    /// A reference set written in one uninterrupted run.
    func reference(seed: Int = 5, _ arguments: [String] = []) throws -> String {
        let out = path("reference-\(seed)-\(arguments.joined())")
        let result = try synth(out, arguments, seed: seed)
        XCTAssertEqual(result.status, 0, result.output)
        return out
    }

    func testFreshAndEmptyFoldersGetAManifestOfEveryFile() throws {
        let out = path("empty")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let result = try synth(out)
        XCTAssertEqual(result.status, 0, result.output)
        let manifest = try readManifest(out)
        XCTAssertEqual(manifest["format"] as? String, "netosis.synth-manifest")
        XCTAssertEqual(manifest["complete"] as? Bool, true)
        XCTAssertEqual((manifest["pending"] as? [Any])?.count, 0)
        let files = try XCTUnwrap(manifest["files"] as? [[String: Any]])
        XCTAssertEqual(files.map { $0["path"] as! String }, try relativeFiles(out).filter { $0 != "manifest.json" })
        // Sizes and checksums are those of the files on disk, as sha256sum prints them.
        let sums = try runProgram("/usr/bin/sha256sum", files.map { "\(out)/\($0["path"] as! String)" })
        XCTAssertEqual(sums.status, 0, sums.output)
        for (entry, line) in zip(files, sums.output.split(separator: "\n")) {
            XCTAssertEqual(String(line.prefix(64)), entry["sha256"] as? String, "\(entry)")
            let size = try FileManager.default.attributesOfItem(atPath: "\(out)/\(entry["path"] as! String)")[.size] as? Int
            XCTAssertEqual(size, entry["size"] as? Int, "\(entry)")
        }
        // The same command again: nothing to do, nothing changed.
        let before = try snapshot(out)
        let again = try synth(out)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("already holds this set"), again.output)
        assertSame(try snapshot(out), before)
    }

    func testResumeAfterAKillGivesTheBytesOfAnUninterruptedRun() throws {
        let reference = try snapshot(try reference())
        for (ranks, stop) in [(1, 1), (1, 3), (2, 1)] {
            let out = path("killed-\(ranks)-\(stop)")
            let killed = try synth(out, ranks: ranks, stopAfterWells: stop)
            XCTAssertNotEqual(killed.status, 0, "np \(ranks), stop \(stop): \(killed.output)")
            let left = try relativeFiles(out)
            XCTAssertFalse(left.contains { $0.contains(".tmp-") }, "a temporary was left: \(left)")
            XCTAssertFalse(left.contains("truth_nuclei.csv"), "\(left)")
            let listed = try XCTUnwrap(try readManifest(out)["files"] as? [[String: Any]]).count
            XCTAssertEqual(listed, 2 * max(stop, ranks), "np \(ranks), stop \(stop): an image and an XML per listed well")

            let resumed = try synth(out, ranks: ranks)
            XCTAssertEqual(resumed.status, 0, resumed.output)
            XCTAssertTrue(resumed.output.contains("kept from the earlier run"), resumed.output)
            assertSame(try snapshot(out), reference, "np \(ranks), stop \(stop): the resumed set differs")
        }
    }

    /// A kill between a file's rename and its listing leaves it at a pending path; a temporary of a
    /// dead process may be left by SIGKILL. Both are synth's: the rerun replaces them.
    func testPendingFilesAndDeadTemporariesAreSynths() throws {
        let referenceSet = try reference()
        let out = path("pending")
        XCTAssertNotEqual(try synth(out, stopAfterWells: 1).status, 0)
        let pending = try XCTUnwrap(try readManifest(out)["pending"] as? [String])
        XCTAssertEqual(pending, ["images/plate01_A02.tif", "annotations/CellCounter_plate01_A02.xml"])
        try Data("half".utf8).write(to: URL(fileURLWithPath: "\(out)/\(pending[0])"))
        let temporary = "\(out)/images/.plate01_A03.tif.tmp-\(hostName())-\(try deadPID())-1f2e"
        try Data("partial".utf8).write(to: URL(fileURLWithPath: temporary))

        let resumed = try synth(out)
        XCTAssertEqual(resumed.status, 0, resumed.output)
        assertSame(try snapshot(out), try snapshot(referenceSet))
    }

    func testOtherOptionsAreRefusedAndOverwriteRemovesOnlyListedFiles() throws {
        let out = path("set")
        XCTAssertEqual(try synth(out).status, 0)
        let notes = Data("plate 1 imaged on Tuesday\n".utf8)
        try notes.write(to: URL(fileURLWithPath: "\(out)/notes.txt"))
        try notes.write(to: URL(fileURLWithPath: "\(out)/images/mine.tif"))
        let before = try snapshot(out)

        let refused = try synth(out, seed: 6)
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("made with other options") && refused.output.contains("--overwrite"), refused.output)
        XCTAssertEqual(oneLine(refused.output), 1, refused.output)
        assertSame(try snapshot(out), before)

        // Fewer wells, another seed: the earlier set goes (well A03 too), the user's files stay as they were.
        let replaced = try synth(out, ["--wells", "2", "--overwrite"], seed: 6)
        XCTAssertEqual(replaced.status, 0, replaced.output)
        XCTAssertTrue(replaced.output.contains("left untouched 2 files"), replaced.output)
        var expected = try snapshot(try reference(seed: 6, ["--wells", "2"]))
        expected["notes.txt"] = notes
        expected["images/mine.tif"] = notes
        assertSame(try snapshot(out), expected)
    }

    func testFilesSynthDidNotWriteAreNeverReplaced() throws {
        // A folder with the user's files and no set: refused, even with --overwrite.
        let foreign = path("foreign")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: "\(foreign)/notes.txt"))
        for arguments in [[], ["--overwrite"]] {
            let result = try synth(foreign, arguments)
            XCTAssertEqual(result.status, 1, result.output)
            XCTAssertTrue(result.output.contains("holds no synthetic set (e.g. notes.txt)"), result.output)
            XCTAssertEqual(try relativeFiles(foreign), ["notes.txt"])
        }

        // The user's own annotation where the bigger set would write one: refused, bytes unchanged.
        let out = path("set")
        XCTAssertEqual(try synth(out, ["--wells", "2"]).status, 0)
        let mine = Data("<CellCounter_Marker_File/>".utf8)
        try mine.write(to: URL(fileURLWithPath: "\(out)/annotations/CellCounter_plate01_A03.xml"))
        let collision = try synth(out, ["--overwrite"])
        XCTAssertEqual(collision.status, 1, collision.output)
        XCTAssertTrue(collision.output.contains("CellCounter_plate01_A03.xml: was not written by netosis synth"), collision.output)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/annotations/CellCounter_plate01_A03.xml")), mine)

        // A listed file the user changed (Fiji saved over the XML): no longer synth's to replace.
        try FileManager.default.removeItem(atPath: "\(out)/annotations/CellCounter_plate01_A03.xml")
        let edited = "\(out)/annotations/CellCounter_plate01_A01.xml"
        let corrected = try Data(contentsOf: URL(fileURLWithPath: edited)) + Data("<!-- corrected -->\r\n".utf8)
        try corrected.write(to: URL(fileURLWithPath: edited))
        for (arguments, seed) in [([String](), 5), (["--overwrite"], 6)] {
            let result = try synth(out, ["--wells", "2"] + arguments, seed: seed)
            XCTAssertEqual(result.status, 1, result.output)
            XCTAssertTrue(result.output.contains("CellCounter_plate01_A01.xml: was changed since netosis synth wrote it"), result.output)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: edited)), corrected)
        }
    }

    /// A set from a netosis before manifests (synth.json, no manifest.json) cannot be resumed: it is
    /// refused, and --overwrite removes only the files its synth.json names.
    func testOldStyleSetIsReplacedOnlyWithOverwrite() throws {
        let out = path("old")
        XCTAssertEqual(try synth(out).status, 0)
        try FileManager.default.removeItem(atPath: "\(out)/manifest.json")   // exactly what the old version left
        let notes = Data("mine".utf8)
        try notes.write(to: URL(fileURLWithPath: "\(out)/notes.txt"))
        let before = try snapshot(out)

        let refused = try synth(out)
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("older netosis") && refused.output.contains("--overwrite"), refused.output)
        assertSame(try snapshot(out), before)

        let replaced = try synth(out, ["--wells", "2", "--overwrite"], seed: 6)
        XCTAssertEqual(replaced.status, 0, replaced.output)
        var expected = try snapshot(try reference(seed: 6, ["--wells", "2"]))
        expected["notes.txt"] = notes
        assertSame(try snapshot(out), expected)
    }

    // MARK: helpers

    func readManifest(_ out: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/manifest.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Every file under `root` (hidden ones too), relative, sorted.
    func relativeFiles(_ root: String) throws -> [String] {
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(atPath: root))
        return enumerator.compactMap { $0 as? String }.filter { path in
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: "\(root)/\(path)", isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }.sorted()
    }

    func snapshot(_ root: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for path in try relativeFiles(root) { files[path] = try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(path)")) }
        return files
    }

    /// Fails naming the files that are missing, extra or different (not dumping their bytes).
    func assertSame(_ got: [String: Data], _ expected: [String: Data], _ message: String = "",
                    file: StaticString = #filePath, line: UInt = #line) {
        let differing = Set(got.keys).union(expected.keys).filter { got[$0] != expected[$0] }.sorted()
        XCTAssertEqual(differing, [], "\(message) missing: \(differing.filter { got[$0] == nil }), "
                       + "extra: \(differing.filter { expected[$0] == nil })", file: file, line: line)
    }

    func oneLine(_ output: String) -> Int { output.split(separator: "\n").count }

    /// This machine's name as TemporaryFiles writes it.
    func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(cString: buffer).replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ".", with: "_")
    }

    /// The PID of a process that has exited.
    func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
