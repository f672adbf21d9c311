import Analysis
import Foundation
import Imaging
import Pipeline
import TestSupport
import XCTest

/// `netosis synth --cohort … --missing-wells … --results-only`: a cohort laid out like the paper's,
/// written as results files straight from its truth, and analysed in seconds; the classic options
/// unchanged (no new keys in synth.json, so earlier seeds give the same sets).
final class SynthCohortTests: XCTestCase {
    var netosis: String { get throws { try productPath("netosis") } }

    func rows(_ path: String) throws -> [[String: String]] {
        let records = try CSVRecords.parse(try String(contentsOfFile: path, encoding: .utf8))
        let header = records[0].fields
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.fields)) }
    }

    func testCohortLayoutLostWellsAndResultsFromTheTruth() throws {
        let folder = try makeTemporaryDirectory("synth-cohort")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("cohort").path
        let args = ["synth", "--seed", "9", "--cohort", "3,2", "--replicates", "2", "--missing-wells", "0.1",
                    "--width", "672", "--height", "512", "--results-only"]
        let run = try runProgram(try netosis, args + ["--out", out], timeout: 120)
        XCTAssertEqual(run.status, 0, run.output)

        // 5 donors × 2 replicates × 17 wells; 2 donors (34 wells) per plate → 3 plates; genotypes alternate.
        let map = try rows(out + "/platemap.csv")
        XCTAssertEqual(map.count, 5 * 34)
        XCTAssertEqual(Set(map.map { $0["plate"]! }), ["plate01", "plate02", "plate03"])
        let donors = map.reduce(into: [String: String]()) { $0[$1["donor"]!] = $1["genotype"]! }
        XCTAssertEqual(donors, ["D01": "HbAA", "D02": "HbSS", "D03": "HbAA", "D04": "HbSS", "D05": "HbAA"])
        for donor in donors.keys {
            let wells = map.filter { $0["donor"] == donor }
            XCTAssertEqual(wells.filter { $0["agonist"] == "PMA" }.count, 16)
            XCTAssertEqual(wells.filter { $0["agonist"] == "A23187" }.count, 16)
            XCTAssertEqual(wells.filter { $0["agonist"] == "DMSO" }.count, 2)
        }
        // Lost wells: in the plate map, not in the truth or the results.
        let truth = try rows(out + "/truth_wells.csv")
        let lost = map.count - truth.count
        XCTAssertTrue(lost > 3 && lost < 35, "\(lost) of \(map.count) lost at 10 %")

        // No images; one results file per plate, whose counts are the truth's.
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        XCTAssertFalse(files.contains("images"))
        let results = try FileManager.default.contentsOfDirectory(atPath: out + "/results").sorted()
        XCTAssertEqual(results, ["plate01.h5", "plate02.h5", "plate03.h5"])
        let set = try ResultsSet.read(results.map { "\(out)/results/\($0)" })
        XCTAssertEqual(set.rows.count, truth.count)
        let byImage = Dictionary(uniqueKeysWithValues: truth.map { ($0["image"]!, $0) })
        for row in set.rows {
            let image = row.result.image
            let t = try XCTUnwrap(byImage[image.name])
            XCTAssertEqual(image.counts[1], Int(t["non_netotic"]!))
            XCTAssertEqual(image.counts[2], Int(t["netotic"]!))
            XCTAssertEqual(row.result.objects.count, image.counts.reduce(0, +))
        }
        XCTAssertEqual(set.files[0].identity.method, "truth")
        XCTAssertNotNil(set.files[0].plateMap, "each file keeps its plate's rows of the plate map")

        // The truth is the donor-shifted 4PL: synth.json states both, and expected_fraction follows them.
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/synth.json"))) as! [String: Any]
        let shifts = try XCTUnwrap(meta["donor_shift"] as? [String: Double])
        XCTAssertEqual(shifts.count, 5)
        for t in truth {
            let m = try XCTUnwrap(map.first { $0["plate"] == t["plate"] && $0["well"] == t["well"] })
            let agonist = try XCTUnwrap(Agonist(rawValue: m["agonist"]!)), genotype = try XCTUnwrap(Genotype(rawValue: m["genotype"]!))
            let f = SynthCohort.response(agonist, genotype).fraction(at: Double(m["concentration"]!)!) + shifts[m["donor"]!]!
            XCTAssertEqual(Double(t["expected_fraction"]!)!, min(max(f, 0.001), 0.999), accuracy: 1e-6)
        }

        // The analyses list the lost wells and use the rest.
        let analysis = folder.appendingPathComponent("dr").path
        let dr = try runProgram(try netosis, ["analyze", "dose-response", "--results"] + results.map { "\(out)/results/\($0)" }
                                + ["--group-by", "agonist,genotype", "--out", analysis])
        XCTAssertEqual(dr.status, 0, dr.output)
        let excluded = try rows(analysis + "/excluded.csv")
        XCTAssertEqual(excluded.filter { $0["reason"]!.contains("no image of it") }.count, lost)
        // With lost wells the classic repeated-measures table cannot be made (a cell empty or short of replicates), and says why.
        let cohort = folder.appendingPathComponent("cohort-analysis").path
        let c = try runProgram(try netosis, ["analyze", "cohort", "--results"] + results.map { "\(out)/results/\($0)" } + ["--out", cohort])
        XCTAssertEqual(c.status, 0, c.output)
        XCTAssertTrue(try rows(cohort + "/anova-classic.csv").allSatisfy { $0["problem"]!.contains("incomplete") || $0["problem"]!.contains("unbalanced") }, c.output)

        // Two ranks give the same truth and the same results rows.
        let two = folder.appendingPathComponent("two").path
        let parallel = try mpirun(2, try netosis, args + ["--out", two], timeout: 120)
        XCTAssertEqual(parallel.status, 0, parallel.output)
        for table in ["platemap.csv", "truth_nuclei.csv", "truth_wells.csv"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(table)")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(two)/\(table)")), table)
        }
        let other = try ResultsSet.read(results.map { "\(two)/results/\($0)" })
        XCTAssertEqual(other.rows.count, set.rows.count)
        for (a, b) in zip(set.rows, other.rows) {
            XCTAssertTrue(a.result.image.sameResult(as: b.result.image), a.result.image.name)
            XCTAssertEqual(a.result.objects, b.result.objects)
        }
        // Rerun: the complete set is recognised, nothing rewritten.
        let again = try runProgram(try netosis, args + ["--out", out], timeout: 60)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("already holds this set"), again.output)
    }

    /// The same seed draws the same objects with or without images (positions within a pixel: the
    /// image's truth is the drawn footprint's centroid, the results-only truth the placed centre).
    func testResultsOnlyPlacesWhatTheImagesShow() throws {
        let folder = try makeTemporaryDirectory("synth-truth")
        defer { try? FileManager.default.removeItem(at: folder) }
        let args = ["synth", "--seed", "4", "--plates", "1", "--wells", "4", "--width", "672", "--height", "512"]
        let images = folder.appendingPathComponent("images").path, truth = folder.appendingPathComponent("truth").path
        XCTAssertEqual(try runProgram(try netosis, args + ["--out", images]).status, 0)
        XCTAssertEqual(try runProgram(try netosis, args + ["--out", truth, "--results-only"]).status, 0)
        let a = try rows(images + "/truth_nuclei.csv"), b = try rows(truth + "/truth_nuclei.csv")
        XCTAssertEqual(a.count, b.count)
        for (p, q) in zip(a, b) {
            XCTAssertEqual(p["image"], q["image"]); XCTAssertEqual(p["class"], q["class"])
            XCTAssertEqual(Double(p["x"]!)!, Double(q["x"]!)!, accuracy: 1.5)
            XCTAssertEqual(Double(p["y"]!)!, Double(q["y"]!)!, accuracy: 1.5)
        }
    }

    /// The paper's cohort (11 control, 7 sickle-cell donors, 3 replicates, 10 % of wells lost) from
    /// results files: the sickle-cell donors' weak PMA response is a dose × genotype interaction, A23187
    /// has none, and the per-genotype PMA EC50s are near the truth (2 nM control, 10 nM sickle cell).
    func testThePaperCohortFromResultsFiles() throws {
        let folder = try makeTemporaryDirectory("synth-paper-cohort")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("cohort").path
        let made = try runProgram(try netosis, ["synth", "--seed", "21", "--cohort", "11,7", "--missing-wells", "0.1",
                                                "--results-only", "--out", out], timeout: 300)
        XCTAssertEqual(made.status, 0, made.output)
        let files = try FileManager.default.contentsOfDirectory(atPath: out + "/results").sorted().map { "\(out)/results/\($0)" }
        XCTAssertEqual(files.count, 18)
        let analysis = folder.appendingPathComponent("cohort-analysis").path
        let result = try runProgram(try netosis, ["analyze", "cohort", "--results"] + files + ["--factor", "genotype", "--out", analysis])
        XCTAssertEqual(result.status, 0, result.output)
        let anova = try rows(analysis + "/anova.csv")
        func p(_ agonist: String, _ term: String) throws -> Double {
            try XCTUnwrap(Double(try XCTUnwrap(anova.first { $0["agonist"] == agonist && $0["term"] == term })["p"]!))
        }
        XCTAssertLessThan(try p("PMA", "dose × genotype"), 0.05, result.output)
        XCTAssertGreaterThan(try p("A23187", "dose × genotype"), 0.05, result.output)
        let ec50 = try rows(analysis + "/ec50.csv")
        func pma(_ genotype: String) throws -> Double {
            try XCTUnwrap(Double(try XCTUnwrap(ec50.first { $0["agonist"] == "PMA" && $0["group"] == "level" && $0["level"] == genotype })["ec50"]!))
        }
        XCTAssertEqual(try pma("HbAA"), 2.0, accuracy: 0.5)
        XCTAssertEqual(log10(try pma("HbSS")), 1.0, accuracy: 0.3)
        // About 90 lost wells: dose-response.json lists them before its "format" key (sorted keys), and is
        // still recognised as netosis's own output when the analysis is rerun with --overwrite.
        let dr = folder.appendingPathComponent("dose-response").path
        for overwrite in [false, true] {
            let run = try runProgram(try netosis, ["analyze", "dose-response", "--results"] + files + ["--out", dr] + (overwrite ? ["--overwrite"] : []))
            XCTAssertEqual(run.status, 0, run.output)
        }
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: dr + "/dose-response.json")).count, 8192)
    }

    /// Complete data (no lost wells), equal groups, one well per donor × dose: the classic two-way
    /// repeated-measures table is written too, and its F tests are the mixed model's.
    func testCompleteCohortGetsTheClassicTableToo() throws {
        let folder = try makeTemporaryDirectory("synth-complete-cohort")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("cohort").path
        XCTAssertEqual(try runProgram(try netosis, ["synth", "--seed", "5", "--cohort", "4,4", "--replicates", "1", "--results-only",
                                                    "--out", out]).status, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: out + "/results").map { "\(out)/results/\($0)" }
        let analysis = folder.appendingPathComponent("a").path
        let result = try runProgram(try netosis, ["analyze", "cohort", "--results"] + files + ["--out", analysis])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("classic repeated-measures ANOVA"), result.output)
        let mixed = try rows(analysis + "/anova.csv"), classic = try rows(analysis + "/anova-classic.csv")
        for agonist in ["PMA", "A23187"] {
            XCTAssertEqual(classic.filter { $0["agonist"] == agonist }.count, 5)
            for (term, source) in [("dose", "dose"), ("genotype", "genotype"), ("dose × genotype", "dose × genotype")] {
                let m = try XCTUnwrap(mixed.first { $0["agonist"] == agonist && $0["term"] == term })
                let c = try XCTUnwrap(classic.first { $0["agonist"] == agonist && $0["source"] == source })
                XCTAssertEqual(Double(m["f"]!)!, Double(c["f"]!)!, accuracy: 1e-4 * Double(c["f"]!)!, "\(agonist) \(term)")
            }
        }
    }

    /// The report of a cohort: every section, the cohort one included (mixed-model F tests, the classic
    /// table of complete data, EC50 per genotype), clustering on tiles near the paper's 576 × 512 px,
    /// rendered by a real headless Chromium.
    func testTheCohortReportRendersInHeadlessChromium() throws {
        let folder = try makeTemporaryDirectory("synth-cohort-report")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("cohort").path
        XCTAssertEqual(try runProgram(try netosis, ["synth", "--seed", "6", "--cohort", "3,3", "--replicates", "1", "--results-only",
                                                    "--out", out]).status, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: out + "/results").sorted().map { "\(out)/results/\($0)" }
        let html = folder.appendingPathComponent("report.html").path
        let run = try runProgram(try netosis, ["report", "--results"] + files + ["--out", html])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("cohort (6 donors)"), run.output)
        let text = try String(contentsOfFile: html, encoding: .utf8)
        for id in ["run", "qc", "plates", "dose-response", "clustering", "cohort"] { XCTAssertTrue(text.contains("<section id=\"\(id)\">"), id) }
        for caption in ["Mixed-model F tests", "Classic two-way repeated-measures ANOVA", "EC50 per genotype"] {
            XCTAssertTrue(text.contains(caption), caption)
        }
        // 1344 × 1024 wells: 2 × 2 tiles of 672 × 512 px (the paper's 6 × 7 would leave tiles of 224 × 171 px).
        XCTAssertTrue(text.contains("2 × 2 tiles (672 × 512 px tiles of a 1344 × 1024 image"), "tile grid")

        // Plate maps a report cannot use as given: a well that is no well name is one line; every group at
        // one concentration still gives a report, whose tables say why there is no EC50.
        let map = try String(contentsOfFile: out + "/platemap.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let unknown = folder.appendingPathComponent("unknown-well.csv").path
        try (map + ["plate01,Z99,PMA,1,nM,0.1,D01,HbAA"]).joined(separator: "\n").appending("\n").write(toFile: unknown, atomically: true, encoding: .utf8)
        let refused = try runProgram(try netosis, ["report", "--results"] + files + ["--platemap", unknown, "--out", folder.appendingPathComponent("r2.html").path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(refused.output.split(separator: "\n").count, 1, refused.output)
        XCTAssertTrue(refused.output.contains("\(unknown): line \(map.count + 1): well 'Z99' is not a well name"), refused.output)
        let flat = folder.appendingPathComponent("one-concentration.csv").path
        try ([map[0]] + map.dropFirst().map { line -> String in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if f[2] != "DMSO" { f[3] = "1" }
            return f.joined(separator: ",")
        }).joined(separator: "\n").appending("\n").write(toFile: flat, atomically: true, encoding: .utf8)
        let flatHTML = folder.appendingPathComponent("flat.html").path
        let flatRun = try runProgram(try netosis, ["report", "--results"] + files + ["--platemap", flat, "--out", flatHTML])
        XCTAssertEqual(flatRun.status, 0, flatRun.output)
        let flatText = try String(contentsOfFile: flatHTML, encoding: .utf8)
        XCTAssertTrue(flatText.contains("all points are at one concentration"), "the EC50 table says why")
        XCTAssertTrue(flatText.contains("<section id=\"cohort\">"))
        guard let chromium = which("chromium") else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("chromium is missing: tools/setup-deps.sh installs it") }
            return
        }
        let dom = try runProgram(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + html], timeout: 120)
        XCTAssertEqual(dom.status, 0, dom.output)
        for heading in ["Run", "Quality control", "Plates", "Dose-response", "Clustering of NETotic nuclei", "Cohort: dose × genotype"] {
            XCTAssertTrue(dom.output.contains("<h2>\(heading)</h2>"), heading)
        }
    }

    func testClassicOptionsAddNothingAndBadCohortsAreOneLine() throws {
        let options = SynthSet.Options(seed: 1, plates: 2, wells: 12, width: 672, height: 512)
        let json = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        for key in ["cohort", "missingWells", "resultsOnly"] { XCTAssertFalse(json.contains(key), json) }
        XCTAssertEqual(options.plan, PlateDesign.plateMap(plates: 2, wells: 12))

        let folder = try makeTemporaryDirectory("synth-cohort-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("x").path
        for (args, says) in [(["--cohort", "11"], "--cohort '11'"), (["--cohort", "11,7", "--plates", "3"], "--plates/--wells"),
                             (["--replicates", "4"], "--cohort only"), (["--cohort", "1,1", "--replicates", "6"], "--replicates must be"),
                             (["--missing-wells", "0.9"], "--missing-wells must be")] {
            let r = try runProgram(try netosis, ["synth", "--out", out] + args)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.output.contains(says), "\(args): \(r.output)")
        }
    }
}
