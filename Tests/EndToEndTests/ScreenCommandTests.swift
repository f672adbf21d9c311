import Foundation
import Neural
@testable import Pipeline
import TestSupport
import XCTest

/// `netosis screen` as users run it: identical results.h5 at any rank count, exactly once under
/// SIGKILL of any rank at any point, bad images recorded as failed while the rest go on, refusals.
/// One small synthetic plate (6 wells, 1344×1024) and a densenet-tiny trained on it for 2 epochs.
final class ScreenCommandTests: XCTestCase {
    static var directory: URL!
    static var reference: ResultsFile.Contents!

    static var netosis: String { get throws { try productPath("netosis") } }
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    var checkpoint: String { Self.path("train/best.h5") }
    var plates: String { Self.path("plates/images") }

    override class func setUp() {
        super.setUp()
        do {
            directory = try makeTemporaryDirectory("netosis-screen")
            let n = try netosis
            for (program, arguments) in [
                ("synth", ["--out", path("plates"), "--seed", "3", "--plates", "1", "--wells", "6"]),
                ("prepare", ["--images", path("plates/images"), "--annotations", path("plates/annotations"), "--out",
                             path("patches.h5"), "--patch-size", "32", "--split-by", "well", "--seed", "1"]),
                ("train", ["--data", path("patches.h5"), "--model", "densenet-tiny", "--out", path("train"), "--epochs", "2",
                           "--batch-size", "32", "--optimizer", "adam", "--lr", "0.003", "--seed", "1"]),
                ("screen", ["--checkpoint", path("train/best.h5"), "--input", path("plates/images"), "--out", path("reference.h5")]),
            ] {
                let result = try mpirun(program == "screen" ? 1 : 2, n, [program] + arguments, timeout: 300)
                guard result.status == 0 else { throw TestSetupError("\(program) failed: \(result.output)") }
            }
            reference = try ResultsFile.read(path("reference.h5"))
        } catch {
            XCTFail("set-up: \(error)")
        }
    }

    override class func tearDown() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        super.tearDown()
    }

    func screen(_ ranks: Int, out: String, input: String? = nil, extra: [String] = [], fault: String? = nil) throws -> ProcessResult {
        var env: [String: String] = [:]
        if let fault { env["NETOSIS_FAULT"] = fault }
        let args = ["screen", "--checkpoint", checkpoint, "--input", input ?? plates, "--out", out] + extra
        return try mpirun(ranks, try Self.netosis, args, timeout: 120, environment: env)
    }

    /// Row for row equal to the uninterrupted single-rank run, timing and rank columns aside.
    func assertSameAsReference(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let got = try ResultsFile.read(path), want = Self.reference!
        XCTAssertEqual(got.identity, want.identity, file: file, line: line)
        XCTAssertEqual(got.results.count, want.results.count, file: file, line: line)
        for (a, b) in zip(got.results, want.results) {
            XCTAssertTrue(a.image.sameResult(as: b.image), "\(a.image) vs \(b.image)", file: file, line: line)
            XCTAssertEqual(a.objects, b.objects, "objects of \(a.image.name)", file: file, line: line)
        }
    }

    func testTheReferenceCountsEveryNucleusOfTheSyntheticPlate() throws {
        let results = try XCTUnwrap(Self.reference).results
        XCTAssertEqual(results.count, 6)
        XCTAssertTrue(results.allSatisfy { $0.image.isOK && $0.image.objects > 100 }, "\(results.map(\.image))")
        for r in results {
            XCTAssertEqual(r.objects.count, r.image.objects)
            XCTAssertEqual(r.objects.classes.filter { $0 == 2 }.count, r.image.counts[2])
            let p = r.image.percentNETotic
            XCTAssertEqual(p, 100 * Double(r.image.counts[2]) / Double(r.image.counts[1] + r.image.counts[2]), accuracy: 1e-12)
        }
    }

    func testResultsAreTheSameAtOneTwoAndThreeRanks() throws {
        for ranks in [2, 3] {
            let out = Self.path("ranks\(ranks).h5")
            let result = try screen(ranks, out: out)
            XCTAssertEqual(result.status, 0, result.output)
            try assertSameAsReference(out)
            let used = Set(try ResultsFile.read(out).results.map(\.image.rank))
            XCTAssertEqual(used, Set(0..<ranks), "every rank, rank 0 included, screens images")
        }
    }

    func testAKilledRankLosesOnlyTheImagesInFlight() throws {
        // worker mid-image, rank 0 mid-image, rank 0 mid-journal-record, rank 0 while renaming results.h5 into place
        for (i, fault) in ["screen-image:1:kill:1", "screen-image:2:kill:0", "screen-journal-torn:3:hit:0", "atomic-rename:1:kill:0"].enumerated() {
            let out = Self.path("killed\(i).h5")
            let killed = try screen(2, out: out, fault: fault)
            XCTAssertNotEqual(killed.status, 0, "\(fault): \(killed.output)")
            XCTAssertFalse(killed.timedOut, "\(fault): the job must end, not hang")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + ".journal"), fault)
            let rerun = try screen(2, out: out)
            XCTAssertEqual(rerun.status, 0, "\(fault): \(rerun.output)")
            XCTAssertTrue(rerun.output.contains("recorded by an interrupted run"), "\(fault): \(rerun.output)")
            try assertSameAsReference(out)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".journal"), "\(fault): journal removed when complete")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".lock"), fault)
        }
    }

    func testASignalStopsTheHandOutWritesResultsAndExits75() throws {
        let out = Self.path("signalled.h5")
        let stopped = try screen(2, out: out, fault: "screen-signal:2:hit:0")
        XCTAssertEqual(stopped.status, 75, stopped.output)
        XCTAssertTrue(stopped.output.contains("SIGUSR1 received"), stopped.output)
        let partial = try ResultsFile.read(out).results
        XCTAssertTrue((2..<6).contains(partial.count), "images in flight finish, no new ones start: \(partial.count)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".journal"))
        let rest = try screen(2, out: out)
        XCTAssertEqual(rest.status, 0, rest.output)
        XCTAssertTrue(rest.output.contains("\(6 - partial.count) to screen"), rest.output)
        try assertSameAsReference(out)
    }

    func testBadImagesFailWithReasonsAndTheRestIsScreened() throws {
        let folder = Self.directory.appendingPathComponent("bad", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func copy(_ from: String, _ to: String) throws {
            try FileManager.default.copyItem(atPath: from, toPath: folder.appendingPathComponent(to).path)
        }
        try copy(plates + "/plate01_A01.tif", "plate01_A01.tif")
        try copy(plates + "/plate01_A02.tif", "plate01_A02.tif")
        // Truncated: the first 30 kB of a well.
        let whole = try Data(contentsOf: URL(fileURLWithPath: plates + "/plate01_A03.tif"))
        try whole.prefix(30_000).write(to: folder.appendingPathComponent("plate01_B01.tif"))
        // RGB(A), as a colour export from another tool would be.
        let rgb = try runProgram("/usr/bin/tiff2rgba", [plates + "/plate01_A04.tif", folder.appendingPathComponent("plate01_B02.tif").path])
        XCTAssertEqual(rgb.status, 0, rgb.output)
        // A well stored as fields with one of its four missing (a 2×2 grid of 672×512 fields).
        let fields = try runProgram(try Self.netosis, ["synth", "--out", Self.path("fields"), "--seed", "4", "--plates", "1",
                                                       "--wells", "1", "--layout", "fields"])
        XCTAssertEqual(fields.status, 0, fields.output)
        for k in 1...3 { try copy(Self.path("fields/images/plate01_A01_f0\(k).tif"), "plate01_C01_f0\(k).tif") }
        let wells = Self.path("wells-2x2.yaml")
        try "fields: {columns: 2, rows: 2, width: 672, height: 512, order: row-major, first_index: 1}\n"
            .write(toFile: wells, atomically: true, encoding: .utf8)

        let out = Self.path("bad.h5")
        let first = try screen(2, out: out, input: folder.path, extra: ["--wells-config", wells])
        XCTAssertEqual(first.status, 0, first.output)
        let rows = Dictionary(uniqueKeysWithValues: try ResultsFile.read(out).results.map { ($0.image.name, $0.image) })
        XCTAssertEqual(rows.count, 5)
        for good in ["plate01_A01", "plate01_A02"] {
            XCTAssertEqual(rows[good]?.status, "ok")
            XCTAssertTrue(rows[good]!.sameResult(as: Self.reference.results.first { $0.image.name == good }!.image.with(path: rows[good]!.path)))
        }
        XCTAssertEqual(rows["plate01_B01"]?.status, "failed")
        XCTAssertTrue(rows["plate01_B01"]!.error.contains("plate01_B01.tif: "), rows["plate01_B01"]!.error)
        XCTAssertEqual(rows["plate01_B02"]?.status, "failed")
        XCTAssertTrue(rows["plate01_B02"]!.error.contains("TIFF is RGB"), rows["plate01_B02"]!.error)
        XCTAssertEqual(rows["plate01_C01"]?.status, "failed")
        XCTAssertTrue(rows["plate01_C01"]!.error.contains("1 of its 4 field images are missing (first missing: field 4)"),
                      rows["plate01_C01"]!.error)
        XCTAssertTrue(first.output.contains("3 failed"), first.output)

        // Rerun: nothing to do; --retry-failed tries the three failed ones again (and only those).
        let again = try screen(1, out: out, input: folder.path, extra: ["--wells-config", wells])
        XCTAssertTrue(again.output.contains("0 to screen"), again.output)
        XCTAssertTrue(again.output.contains("--retry-failed screens them again"), again.output)
        let retry = try screen(1, out: out, input: folder.path, extra: ["--wells-config", wells, "--retry-failed"])
        XCTAssertTrue(retry.output.contains("3 to screen"), retry.output)
        XCTAssertEqual(try ResultsFile.read(out).results.filter(\.image.isOK).count, 2)
    }

    func testAManifestListsTheImagesToScreen() throws {
        let manifest = Self.path("plates/manifest.csv")
        try "Plate,Well,Field,Path\r\nplate01,a1,,images/plate01_A01.tif\r\n\"plate01\",B2,x,\"images/plate01_A02.tif\"\r\n"
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        let out = Self.path("manifest.h5")
        let result = try screen(2, out: out, input: manifest)
        XCTAssertEqual(result.status, 0, result.output)
        let rows = try ResultsFile.read(out).results
        XCTAssertEqual(rows.map(\.image.name), ["plate01_A01", "plate01_A02"])
        XCTAssertEqual(rows.map(\.image.well), ["A01", "B02"], "wells from the manifest, normalised")
        XCTAssertEqual(rows[1].image.field, "x")
        for r in rows {
            let want = try XCTUnwrap(Self.reference.results.first { $0.image.name == r.image.name })
            XCTAssertEqual(r.objects, want.objects)
            XCTAssertEqual(r.image.counts, want.image.counts)
        }
    }

    func testRefusals() throws {
        let out = Self.path("refusals.h5")
        XCTAssertEqual(try screen(1, out: out).status, 0)
        // Another checkpoint into the same file.
        let other = Self.path("other.h5")
        _ = try SmallInputs.checkpoint(other)
        let mixed = try mpirun(1, try Self.netosis, ["screen", "--checkpoint", other, "--input", plates, "--out", out])
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertTrue(mixed.output.contains("\(out): was screened with checkpoint \(checkpoint)"), mixed.output)
        // A checkpoint with five classes.
        let five = Self.path("five.h5")
        var c5 = try DenseNetConfig.load("densenet-tiny")
        c5.numClasses = 5
        try WeightIO.save(try DenseNet(config: c5, seed: 1), to: five)
        let wrong = try mpirun(1, try Self.netosis, ["screen", "--checkpoint", five, "--input", plates, "--out", Self.path("five-out.h5")])
        XCTAssertTrue(wrong.output.contains("has 5 classes; screen counts other / non-NETotic / NETotic and needs a 3-class checkpoint"), wrong.output)
        // Two writers: the second names the first.
        let lock = open(out + ".lock", O_RDWR | O_CREAT, 0o644)
        XCTAssertEqual(flock(lock, LOCK_EX), 0)
        _ = "host testhost, pid 4242, Slurm job 777\n".withCString { write(lock, $0, strlen($0)) }
        let second = try screen(1, out: out)
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.output.contains("is being written by another screen (host testhost, pid 4242, Slurm job 777)"), second.output)
        close(lock)
    }
}

extension ScreenCommandTests {
    func testExportWritesTablesWithThePlateMapJoined() throws {
        let folder = Self.path("tables")
        let result = try mpirun(1, try Self.netosis, ["export", "--results", Self.path("reference.h5"), "--csv", folder,
                                                      "--platemap", Self.path("plates/platemap.csv")])
        XCTAssertEqual(result.status, 0, result.output)
        func table(_ name: String) throws -> [[String: String]] {
            let lines = try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
            let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init))) }
        }
        let images = try table("images.csv"), wells = try table("wells.csv"), objects = try table("objects.csv")
        let reference = Self.reference.results
        XCTAssertEqual(images.count, reference.count)
        XCTAssertEqual(wells.count, reference.count, "one stitched image per well")
        XCTAssertEqual(objects.count, reference.map(\.objects.count).reduce(0, +))
        let platemap = try String(contentsOfFile: Self.path("plates/platemap.csv"), encoding: .utf8).split(separator: "\n")
            .dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        for (row, want) in zip(images, reference.map(\.image)) {
            XCTAssertEqual(row["image"], want.name)
            XCTAssertEqual(row["count_netotic"], "\(want.counts[2])")
            XCTAssertEqual(Double(row["percent_netotic"]!)!, want.percentNETotic, accuracy: 1e-12)
            let map = try XCTUnwrap(platemap.first { $0[0] == want.plate && $0[1] == want.well })
            XCTAssertEqual(row["agonist"], map[2]); XCTAssertEqual(row["concentration"], map[3]); XCTAssertEqual(row["genotype"], map[7])
        }
        for (row, want) in zip(wells, reference.map(\.image)) {
            XCTAssertEqual(row["count_non_netotic"], "\(want.counts[1])")
            XCTAssertEqual(Double(row["percent_netotic"]!)!, want.percentNETotic, accuracy: 1e-12)
        }
        // Two files holding the same images: reported, one row each kept.
        let twice = try mpirun(1, try Self.netosis, ["export", "--results", Self.path("reference.h5"), Self.path("reference.h5"),
                                                     "--csv", Self.path("tables2")])
        XCTAssertEqual(twice.status, 0, twice.output)
        XCTAssertTrue(twice.output.contains("image plate01_A01 (plate plate01) is in \(Self.path("reference.h5")) (ok) and"), twice.output)
        XCTAssertEqual(try table("../tables2/images.csv").count, reference.count)
    }

    func testCountsComparesWithTheMarkersOfEachImage() throws {
        let json = Self.path("counts.json")
        let result = try mpirun(1, try Self.netosis, ["counts", "--results", Self.path("reference.h5"), "--annotations",
                                                      Self.path("plates/annotations"), "--json", json])
        XCTAssertEqual(result.status, 0, result.output)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let classes = report["classes"] as! [[String: Any]]
        // The synthetic markers are the truth: one per object, type 1 non-NETotic, 2 NETotic, 4 other.
        let truth = try String(contentsOfFile: Self.path("plates/truth_wells.csv"), encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let h = truth[0]
        let rows = Self.reference.results.map(\.image)
        for (k, column) in [(1, "non_netotic"), (2, "netotic")] {
            let manual = rows.map { r in Double(truth.first { $0[h.firstIndex(of: "image")!] == r.name }![h.firstIndex(of: column)!])! }
            let predicted = rows.map { Double($0.counts[k]) }
            let entry = try XCTUnwrap(classes.first { $0["class"] as? String == ScreenClasses.names[k] })
            XCTAssertEqual(entry["n"] as? Int, 6)
            let n = Double(rows.count)
            let r = textbookPearson(predicted, manual)
            XCTAssertEqual(entry["pearson_r"] as! Double, r, accuracy: 1e-12)
            XCTAssertEqual(entry["mae"] as! Double, zip(predicted, manual).map { abs($0 - $1) }.reduce(0, +) / n, accuracy: 1e-9)
            XCTAssertEqual(entry["bias"] as! Double, zip(predicted, manual).map { $0 - $1 }.reduce(0, +) / n, accuracy: 1e-9)
            let z = atanh(r), se = 1 / (n - 3).squareRoot()
            XCTAssertEqual(entry["r_ci95_low"] as! Double, tanh(z - 1.959963984540054 * se), accuracy: 1e-9)
        }
        XCTAssertTrue(result.output.contains("NETotic"), result.output)
    }
}

extension ScreenCommandTests {
    /// The cluster path: a 2-task `sbatch` job (slurm/run.sbatch) that screens, then exports and counts.
    func testAScreenJobOnSlurm() throws {
        guard let conf = try localSlurmConfiguration() else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("no local Slurm under CI") }
            throw XCTSkip("no local Slurm (run via `make test`)")
        }
        let sbatch = try XCTUnwrap(which("sbatch"), "sbatch not installed")
        let out = Self.path("slurm.h5"), job = Self.path("screen.job"), log = Self.path("screen-job.out")
        try """
        step screen --checkpoint \(checkpoint) --input \(plates) --out \(out)
        step export --results \(out) --csv \(Self.path("slurm-tables")) --platemap \(Self.path("plates/platemap.csv"))
        step counts --results \(out) --annotations \(Self.path("plates/annotations")) --json \(Self.path("slurm-counts.json"))
        """.write(toFile: job, atomically: true, encoding: .utf8)
        let result = try runProgram(sbatch, ["--wait", "--ntasks=2", "--output=\(log)",
                                             repositoryRoot().appendingPathComponent("slurm/run.sbatch").path, job],
                                    environment: ["SLURM_CONF": conf, "NETOSIS": try Self.netosis],
                                    timeout: 300, directory: Self.directory.path)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(no job output)"
        XCTAssertEqual(result.status, 0, "\(result.output)\n\(text)")
        XCTAssertTrue(text.contains("6 to screen on 2 rank(s)"), text)
        try assertSameAsReference(out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.path("slurm-tables/wells.csv")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.path("slurm-counts.json")))
    }
}

extension ScreenedImage {
    func with(path: String) -> ScreenedImage { var c = self; c.path = path; return c }
}

extension ScreenCommandTests {
    /// `screen --platemap` keeps the map in results.h5: export and analyze need no plate map of their
    /// own, a rerun without one keeps it, and a map that does not parse is refused before any work.
    func testThePlateMapScreenKeepsServesExportAndAnalyze() throws {
        let out = Self.path("mapped.h5"), map = Self.path("plates/platemap.csv")
        let first = try screen(1, out: out, extra: ["--platemap", map])
        XCTAssertEqual(first.status, 0, first.output)
        let kept = try XCTUnwrap(try ResultsFile.read(out).plateMap)
        XCTAssertEqual(kept.text, try String(contentsOfFile: map, encoding: .utf8))
        XCTAssertEqual(kept.path, URL(fileURLWithPath: map).path)
        XCTAssertEqual(try screen(1, out: out).status, 0)
        XCTAssertEqual(try ResultsFile.read(out).plateMap?.text, kept.text, "a rerun without --platemap keeps it")
        // export joins the kept map.
        let folder = Self.path("mapped-tables")
        let export = try mpirun(1, try Self.netosis, ["export", "--results", out, "--csv", folder])
        XCTAssertEqual(export.status, 0, export.output)
        let wells = try String(contentsOfFile: folder + "/wells.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(wells[0].hasSuffix(",agonist,concentration,unit,vehicle_pct,donor,genotype"), String(wells[0]))
        XCTAssertFalse(wells.dropFirst().contains { $0.hasSuffix(",,,,,,") }, "every well mapped")
        // analyze reads the results with the kept map: every well of the plate is a point or a vehicle row.
        let analysis = Self.path("mapped-analysis")
        let analyze = try mpirun(1, try Self.netosis, ["analyze", "dose-response", "--results", out, "--out", analysis, "--min-nuclei", "1"])
        XCTAssertEqual(analyze.status, 0, analyze.output)
        let rows = try String(contentsOfFile: analysis + "/wells.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let percents = Dictionary(uniqueKeysWithValues: Self.reference.results.map { ("\($0.image.plate),\($0.image.well)", $0.image.percentNETotic) })
        XCTAssertFalse(rows.isEmpty)
        for row in rows {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(Double(f[10])!, try XCTUnwrap(percents["\(f[1]),\(f[2])"]), accuracy: 1e-9, String(row))
        }
        // analyze clustering reads the NETotic objects of each image (2×2 tiles of these small wells).
        let clustering = Self.path("mapped-clustering")
        let cluster = try mpirun(1, try Self.netosis, ["analyze", "clustering", "--results", out, "--out", clustering, "--tiles", "2x2",
                                                       "--min-per-tile", "2", "--repetitions", "5"])
        XCTAssertEqual(cluster.status, 0, cluster.output)
        let imageRows = try String(contentsOfFile: clustering + "/images.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(imageRows.count, Self.reference.results.count)
        for (row, want) in zip(imageRows, Self.reference.results) {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f[0], want.image.name); XCTAssertEqual(f[6], "\(want.image.counts[2])")
        }
        // A plate map that does not parse: refused up front, one line naming the file and line.
        let bad = Self.path("bad-platemap.csv")
        try "plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype\nplate01,Z99,PMA,1,nM,0.1,d,HbAA\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try screen(1, out: Self.path("bad-map.h5"), extra: ["--platemap", bad])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("\(bad): line 2: well 'Z99' is not a well name"), refused.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.path("bad-map.h5")))
    }
}

extension ScreenCommandTests {
    /// `netosis report` on a screen with its kept plate map: one self-contained HTML file that a real
    /// headless Chromium renders with every section; broken inputs get one line.
    func testTheReportRendersInHeadlessChromium() throws {
        let results = Self.path("report-results.h5")
        XCTAssertEqual(try screen(1, out: results, extra: ["--platemap", Self.path("plates/platemap.csv")]).status, 0)
        let html = Self.path("report.html")
        let run = try mpirun(1, try Self.netosis, ["report", "--results", results, "--out", html, "--min-nuclei", "1",
                                                   "--annotations", Self.path("plates/annotations")])
        XCTAssertEqual(run.status, 0, run.output)
        let text = try String(contentsOfFile: html, encoding: .utf8)
        // QC against the synthetic markers: every well annotated; nearly every marker on a segmented object.
        let coverage = try XCTUnwrap(text.range(of: #"Manual annotations: 6 image\(s\); \d+ of \d+ markers \(([0-9.]+) %\)"#, options: .regularExpression))
        let percent = Double(text[coverage].split(separator: "(").last!.split(separator: " ").first!)!
        XCTAssertGreaterThan(percent, 90, String(text[coverage]))
        XCTAssertTrue(text.contains("Counts per image against the annotations"))
        for id in ["run", "qc", "plates", "dose-response", "clustering"] { XCTAssertTrue(text.contains("<section id=\"\(id)\">"), id) }
        // Self-contained: nothing fetched (the only URL is SVG's namespace), no script.
        let urls = text.components(separatedBy: "http").dropFirst().filter { !$0.hasPrefix("://www.w3.org/2000/svg") }
        XCTAssertEqual(urls.count, 0, "external references: \(urls.prefix(3))")
        XCTAssertFalse(text.contains("<script"))
        XCTAssertFalse(text.contains("<link "))
        // Every image's plate appears in a heatmap; every well's % NETotic is written in it.
        for r in Self.reference.results {
            let percent = String(format: "%.0f", r.image.percentNETotic)
            XCTAssertTrue(text.contains(">\(percent)</text>"), "\(r.image.well) \(percent)")
        }
        // A real browser: Chromium (Debian package, installed by tools/setup-deps.sh) renders it.
        guard let chromium = which("chromium") else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("chromium is missing: tools/setup-deps.sh installs it") }
            return
        }
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
        let dom = try runProgram(chromium, flags + ["--dump-dom", "file://" + html], timeout: 120)
        XCTAssertEqual(dom.status, 0, dom.output)
        for heading in ["Run", "Quality control", "Plates", "Dose-response", "Clustering of NETotic nuclei"] {
            XCTAssertTrue(dom.output.contains("<h2>\(heading)</h2>"), heading)
        }
        XCTAssertTrue(dom.output.contains("<svg"))
        let png = Self.path("report.png")
        let shot = try runProgram(chromium, flags + ["--window-size=1280,2000", "--screenshot=" + png, "file://" + html], timeout: 120)
        XCTAssertEqual(shot.status, 0, shot.output)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        XCTAssertGreaterThan(bytes.count, 20_000, "a rendered page, not a blank one")
        // Broken inputs: a truncated results file and a foreign HDF5 file, one line each.
        let truncated = Self.path("truncated-results.h5")
        let whole = try Data(contentsOf: URL(fileURLWithPath: results))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
        for (input, message) in [(truncated, truncated), (Self.path("patches.h5"), "is a netosis.patches file, expected a netosis.results file")] {
            let bad = try runProgram(try Self.netosis, ["report", "--results", input, "--out", Self.path("bad-report.html")])
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.output.contains(message), bad.output)
            XCTAssertEqual(bad.output.split(separator: "\n").count, 1, bad.output)
        }
    }
}
