import Analysis
import Determinism
import Foundation
import TestSupport
import XCTest

/// `netosis analyze dose-response` on counts tables drawn from known 4PL curves (the synthetic
/// generator's PMA and A23187 responses): the EC50s come back inside their CIs, the weak PMA
/// response of the HbSS donors differs from the controls' and A23187's does not, exclusions are
/// listed, and bad input gets one line.
final class AnalyzeDoseResponseTests: XCTestCase {
    static let header = "plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype,netotic,non_netotic"
    var netosis: String { get throws { try productPath("netosis") } }

    struct Curve { var bottom, top, ec50, hill: Double }
    static let truth: [String: (unit: String, series: [Double], curves: [String: Curve])] = [
        "PMA": ("nM", [0.001, 0.01, 0.1, 1, 5, 20, 100, 200],
                ["HbAA": Curve(bottom: 0.06, top: 0.70, ec50: 2.0, hill: 1.2), "HbSS": Curve(bottom: 0.10, top: 0.35, ec50: 8.0, hill: 1.0)]),
        "A23187": ("uM", [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8],
                   ["HbAA": Curve(bottom: 0.06, top: 0.60, ec50: 0.9, hill: 2.0), "HbSS": Curve(bottom: 0.10, top: 0.62, ec50: 0.9, hill: 2.0)]),
    ]

    /// Binomial counts of `nuclei` per well (seeded), 3 replicates per dose, 3 DMSO wells per plate,
    /// plus one well of 8 nuclei (to be left out) and `extra` rows.
    static func table(seed: UInt64, nuclei: Int = 400, extra: [String] = []) -> String {
        var rng = SplitMix64(seed: seed)
        var lines = [header]
        let wells = "ABCDEFGH".flatMap { r in (1...12).map { String(format: "%@%02d", String(r), $0) } }
        for (p, genotype) in ["HbAA", "HbSS"].enumerated() {
            var i = 0
            func add(_ agonist: String, _ c: Double, _ unit: String, _ fraction: Double) {
                var k = 0
                for _ in 0..<nuclei where Double(rng.next() >> 11) / Double(1 << 53) < fraction { k += 1 }
                lines.append("plate\(p + 1),\(wells[i]),\(agonist),\(c),\(unit),0.1,donor\(p + 1),\(genotype),\(k),\(nuclei - k)")
                i += 1
            }
            for agonist in ["PMA", "A23187"] {
                let t = truth[agonist]!, curve = t.curves[genotype]!
                for c in t.series {
                    for _ in 0..<3 { add(agonist, c, t.unit, curve.bottom + (curve.top - curve.bottom) / (1 + pow(curve.ec50 / c, curve.hill))) }
                }
            }
            for _ in 0..<3 { add("DMSO", 0, "", t0(genotype)) }
            lines.append("plate\(p + 1),\(wells[i]),PMA,1,nM,0.1,donor\(p + 1),\(genotype),3,5")
        }
        return (lines + extra).joined(separator: "\n") + "\n"
    }
    static func t0(_ genotype: String) -> Double { genotype == "HbAA" ? 0.06 : 0.10 }

    func write(_ text: String) throws -> (folder: URL, table: String) {
        let folder = try makeTemporaryDirectory("netosis-dose-response")
        let path = folder.appendingPathComponent("table.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (folder, path)
    }

    /// A CSV output as rows keyed by header (quoted fields with commas parsed as any reader would).
    func csv(_ path: String) throws -> [[String: String]] {
        let records = try CSVRecords.parse(try String(contentsOfFile: path, encoding: .utf8))
        let header = records[0].fields
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.fields)) }
    }

    func testEC50sComeBackAndTheWeakPMAResponseOfHbSSDiffers() throws {
        let (folder, table) = try write(Self.table(seed: 11))
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out").path
        let result = try runProgram(try netosis, ["analyze", "dose-response", "--table", table, "--group-by", "agonist,genotype", "--out", out])
        XCTAssertEqual(result.status, 0, result.output)
        let fits = try csv(out + "/fits.csv")
        XCTAssertEqual(fits.count, 4)
        for row in fits {
            let agonist = row["agonist"]!, genotype = row["group"]!.components(separatedBy: "genotype=")[1]
            let curve = Self.truth[agonist]!.curves[genotype]!
            XCTAssertEqual(row["verdict"], "unambiguous", "\(row)")
            XCTAssertEqual(row["wells"], "24"); XCTAssertEqual(row["concentrations"], "8"); XCTAssertEqual(row["vehicle_wells"], "3")
            let low = Double(row["ec50_low"]!)!, high = Double(row["ec50_high"]!)!, ec50 = Double(row["ec50"]!)!
            XCTAssertTrue(low < ec50 && ec50 < high)
            // 400 nuclei per well: the estimate is within a factor 1.5 and the 95 % CI is a few tens of percent wide.
            XCTAssertEqual(log10(ec50), log10(curve.ec50), accuracy: log10(1.5), "\(row)")
            XCTAssertEqual(Double(row["top"]!)!, 100 * curve.top, accuracy: 5, "\(row)")
            XCTAssertEqual(Double(row["bottom"]!)!, 100 * curve.bottom, accuracy: 3, "\(row)")
            XCTAssertGreaterThan(Double(row["r_squared"]!)!, 0.95)
            XCTAssertEqual(Double(row["vehicle_mean"]!)!, 100 * Self.t0(genotype), accuracy: 3)
        }
        let comparisons = try csv(out + "/comparisons.csv")
        XCTAssertEqual(comparisons.map { $0["agonist"] }, ["PMA", "A23187"])
        XCTAssertLessThan(Double(comparisons[0]["p"]!)!, 0.05, "HbSS PMA EC50 is 4× the controls'")
        XCTAssertGreaterThan(Double(comparisons[1]["p"]!)!, 0.05, "A23187 EC50s are equal")
        XCTAssertEqual(comparisons[0]["df_numerator"], "1"); XCTAssertEqual(comparisons[0]["df_denominator"], "40")
        // The few-nuclei wells are left out and listed; every other well is a point or a vehicle row.
        let excluded = try csv(out + "/excluded.csv")
        XCTAssertEqual(excluded.map { $0["well"] }, ["E04", "E04"])
        XCTAssertTrue(excluded[0]["reason"]!.contains("only 8 NETotic + non-NETotic nuclei (minimum 50)"))
        let wells = try csv(out + "/wells.csv")
        XCTAssertEqual(wells.filter { $0["role"] == "point" }.count, 96)
        XCTAssertEqual(wells.filter { $0["role"] == "vehicle" }.count, 12, "3 DMSO wells shown with each agonist's curve of their genotype")
        for w in wells {
            let n = Double(w["netotic"]!)!, d = n + Double(w["non_netotic"]!)!
            XCTAssertEqual(Double(w["percent_netotic"]!)!, 100 * n / d, accuracy: 1e-9)
        }
        // Curves: 101 points per group, the fit inside its band.
        let curves = try csv(out + "/curves.csv")
        XCTAssertEqual(curves.count, 4 * 101)
        for c in curves { XCTAssertTrue(Double(c["band_low"]!)! <= Double(c["fit"]!)! && Double(c["fit"]!)! <= Double(c["band_high"]!)!) }
        // JSON and SVG.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/dose-response.json"))) as! [String: Any]
        XCTAssertEqual(json["format"] as? String, "netosis.dose-response")
        XCTAssertEqual((json["groups"] as! [[String: Any]]).count, 4)
        let svg = try String(contentsOfFile: out + "/dose-response.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 4, "one curve per group")
        XCTAssertEqual(svg.components(separatedBy: "<polygon").count - 1, 4, "one band per group")
        XCTAssertTrue(svg.contains("PMA (nM)") && svg.contains("A23187 (uM)"))
        // Plate heatmaps: one nested plate per plate of the table, each analysed well's % NETotic written in it.
        let plates = try String(contentsOfFile: out + "/plates.svg", encoding: .utf8)
        XCTAssertEqual(plates.components(separatedBy: "<svg y=").count - 1, Set(wells.map { $0["plate"]! }).count)
        for w in wells.prefix(20) {
            XCTAssertTrue(plates.contains(String(format: ": %.0f</title>", Double(w["percent_netotic"]!)!)), "\(w["plate"]!) \(w["well"]!)")
        }
        // A second run into the folder needs --overwrite; then it replaces its own files.
        let again = try runProgram(try netosis, ["analyze", "dose-response", "--table", table, "--out", out])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.output.contains("exists; pass --overwrite to replace it"), again.output)
        XCTAssertEqual(try runProgram(try netosis, ["analyze", "dose-response", "--table", table, "--out", out, "--overwrite"]).status, 0)
    }

    func testNormalisedFitsAndGroupsThatCannotBeFitted() throws {
        // A donor with one concentration only: a clear line, the rest analysed.
        let extra = ["plate3,A01,PMA,5,nM,0.1,donor3,HbAA,100,300", "plate3,A02,PMA,5,nM,0.1,donor3,HbAA,110,290"]
        let (folder, table) = try write(Self.table(seed: 12, extra: extra))
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out").path
        let result = try runProgram(try netosis, ["analyze", "dose-response", "--table", table, "--group-by", "agonist,donor",
                                                  "--normalize", "--model", "normalized", "--out", out])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("agonist=PMA donor=donor3: 2 well(s) at 1 concentration(s): no fit: dose-response: 2 points cannot fit the 2 parameters")
                      || result.output.contains("agonist=PMA donor=donor3: 2 well(s) at 1 concentration(s): no fit: dose-response: all points are at one concentration"),
                      result.output)
        let fits = try csv(out + "/fits.csv")
        XCTAssertEqual(fits.count, 5)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/dose-response.json"))) as! [String: Any]
        let scale = json["normalization"] as! [String: Double]
        // 0 and 100 are the smallest and largest dose means over every group.
        let wells = try csv(out + "/wells.csv").filter { $0["role"] == "point" }
        var means: [String: [Double]] = [:]
        for w in wells { means[w["group"]! + "@" + w["concentration"]!, default: []].append(Double(w["percent_netotic"]!)!) }
        let m = means.values.map { $0.reduce(0, +) / Double($0.count) }
        XCTAssertEqual(scale["zero"]!, m.min()!, accuracy: 1e-9)
        XCTAssertEqual(scale["hundred"]!, m.max()!, accuracy: 1e-9)
        for row in fits where row["verdict"] == "unambiguous" {
            XCTAssertEqual(row["bottom"], "0"); XCTAssertEqual(row["top"], "100")
            XCTAssertEqual(row["model"], "normalized")
        }
        // The HbSS donor's PMA plateau (≈ 45 on the shared scale) cannot be fitted with top fixed at 100:
        // it says so instead of printing an EC50; the other three curves reach 100 and are reported.
        XCTAssertEqual(fits.filter { $0["verdict"] == "unambiguous" }.map { $0["group"]! },
                       ["agonist=PMA donor=donor1", "agonist=A23187 donor=donor1", "agonist=A23187 donor=donor2"])
        let weak = try XCTUnwrap(fits.first { $0["group"] == "agonist=PMA donor=donor2" })
        XCTAssertEqual(weak["ec50"], "")
        XCTAssertTrue(weak["problem"]!.hasPrefix("no EC50: "), "\(weak)")
    }

    func testBadInputGetsOneLine() throws {
        let (folder, table) = try write(Self.table(seed: 13))
        defer { try? FileManager.default.removeItem(at: folder) }
        let noCounts = folder.appendingPathComponent("nocounts.csv").path
        try "plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype\np,A01,PMA,1,nM,0.1,d,HbAA\n"
            .write(toFile: noCounts, atomically: true, encoding: .utf8)
        let badCount = folder.appendingPathComponent("badcount.csv").path
        try (Self.header + "\np,A01,PMA,1,nM,0.1,d,HbAA,many,3\n").write(toFile: badCount, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out").path
        for (arguments, message) in [
            (["--table", table, "--group-by", "agonist,colour"], "--group-by: 'colour' is not a plate-map column"),
            (["--table", noCounts], "\(noCounts): lacks the count columns netotic, non_netotic"),
            (["--table", badCount], "\(badCount): line 2: netotic 'many' is not a whole number ≥ 0"),
            (["--table", table, "--results", table], "give results files or one counts table, not both"),
            (["--table", table, "--model", "normalized"], "use it with --normalize"),
            (["--table", folder.appendingPathComponent("missing.csv").path], "missing.csv: no such file"),
        ] {
            let result = try runProgram(try netosis, ["analyze", "dose-response", "--out", out] + arguments)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.output.contains(message), "\(arguments): \(result.output)")
            XCTAssertLessThanOrEqual(result.output.split(separator: "\n").count, 2, result.output)
        }
    }
}
