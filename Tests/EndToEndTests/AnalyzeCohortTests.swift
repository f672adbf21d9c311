import Analysis
import Determinism
import Foundation
import TestSupport
import XCTest

/// `netosis analyze cohort` on a cohort drawn like the paper's (11 control and 7 sickle-cell donors,
/// PMA and A23187 series, a donor effect, about 10 % of wells missing): the SCD donors' weak PMA
/// response gives a significant dose × genotype interaction, and A23187 (the same curve in both
/// genotypes, lifted by the SCD baseline) a genotype effect but no interaction.
final class AnalyzeCohortTests: XCTestCase {
    static func table(seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        func normal() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
        var lines = [AnalyzeDoseResponseTests.header]
        let wells = "ABCDEFGH".flatMap { r in (1...12).map { String(format: "%@%02d", String(r), $0) } }
        for (d, genotype) in (Array(repeating: "HbAA", count: 11) + Array(repeating: "HbSS", count: 7)).enumerated() {
            let donorShift = 0.03 * normal()
            var i = 0
            func add(_ agonist: String, _ c: Double, _ unit: String, _ fraction: Double) {
                defer { i += 1 }
                guard uniform() > 0.1 else { return }   // a missing well
                let p = min(max(fraction + donorShift, 0.01), 0.99)
                var k = 0
                for _ in 0..<400 where uniform() < p { k += 1 }
                lines.append("plate\(d + 1),\(wells[i]),\(agonist),\(c),\(unit),0.1,donor\(d + 1),\(genotype),\(k),\(400 - k)")
            }
            for agonist in ["PMA", "A23187"] {
                let t = AnalyzeDoseResponseTests.truth[agonist]!
                var curve = t.curves[genotype]!
                // A23187: the SCD donors' curve is the controls' lifted by their higher baseline (+4 points at every
                // dose): a genotype effect, no interaction. PMA: lower top and right-shifted EC50, a real interaction.
                if agonist == "A23187" {
                    curve = t.curves["HbAA"]!
                    if genotype == "HbSS" { curve.bottom += 0.04; curve.top += 0.04 }
                }
                for c in t.series {
                    for _ in 0..<2 { add(agonist, c, t.unit, curve.bottom + (curve.top - curve.bottom) / (1 + pow(curve.ec50 / c, curve.hill))) }
                }
            }
            for _ in 0..<2 { add("DMSO", 0, "", AnalyzeDoseResponseTests.t0(genotype)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func testTheWeakPMAResponseOfSickleCellDonorsIsAnInteraction() throws {
        let folder = try makeTemporaryDirectory("netosis-cohort")
        defer { try? FileManager.default.removeItem(at: folder) }
        let table = folder.appendingPathComponent("cohort.csv").path
        try Self.table(seed: 21).write(toFile: table, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out").path
        let result = try runProgram(try productPath("netosis"), ["analyze", "cohort", "--table", table, "--factor", "genotype", "--out", out])
        XCTAssertEqual(result.status, 0, result.output)
        let records = try CSVRecords.parse(try String(contentsOfFile: out + "/anova.csv", encoding: .utf8))
        let header = records[0].fields
        let rows = records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.fields)) }
        func p(_ agonist: String, _ term: String) throws -> Double {
            try XCTUnwrap(Double(try XCTUnwrap(rows.first { $0["agonist"] == agonist && $0["term"] == term }, "\(agonist) \(term)")["p"]!))
        }
        XCTAssertLessThan(try p("PMA", "dose × genotype"), 0.05, result.output)
        XCTAssertGreaterThan(try p("A23187", "dose × genotype"), 0.05, result.output)
        XCTAssertLessThan(try p("PMA", "dose"), 1e-6)
        XCTAssertLessThan(try p("A23187", "dose"), 1e-6)
        for row in rows {
            XCTAssertEqual(row["donors"], "18")
            let df = Double(row["denominator_df"]!)!
            XCTAssertTrue(df > 1 && df < Double(row["wells"]!)!, "\(row)")
        }
        // EC50 per genotype (donors pooled): the SCD donors' PMA EC50 is to the right of the controls'.
        let ec50 = try CSVRecords.parse(try String(contentsOfFile: out + "/ec50.csv", encoding: .utf8))
        let h = ec50[0].fields
        let e = ec50.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(h, $0.fields)) }
        let control = try XCTUnwrap(e.first { $0["agonist"] == "PMA" && $0["group"] == "level" && $0["level"] == "HbAA" })
        let scd = try XCTUnwrap(e.first { $0["agonist"] == "PMA" && $0["group"] == "level" && $0["level"] == "HbSS" })
        XCTAssertEqual(Double(control["ec50"]!)!, 2.0, accuracy: 0.6)
        XCTAssertGreaterThan(Double(scd["ec50"]!) ?? .infinity, Double(control["ec50"]!)!)
        XCTAssertEqual(e.filter { $0["group"] == "donor" }.count, 36, "18 donors × 2 agonists")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/cohort.json"))) as! [String: Any]
        XCTAssertEqual(json["format"] as? String, "netosis.cohort")
    }
}
