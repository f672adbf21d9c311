import Analysis
import Determinism
import Foundation
import TestSupport
import XCTest

/// `netosis analyze clustering` on point patterns of known structure, as tables: clustered NETs
/// (a Thomas process, as A23187 gives) against dispersed ones (a jittered lattice, as PMA): every
/// tile's Clark–Evans verdict is right and the count-matched comparison finds the difference.
final class AnalyzeClusteringTests: XCTestCase {
    var netosis: String { get throws { try productPath("netosis") } }

    /// Three 4032×3072 images per treatment, seeded; non-NETotic nuclei (class 1) sprinkled in.
    static func tables(seed: UInt64) -> (nuclei: String, images: String) {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        func normal() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
        let w = 4032.0, h = 3072.0
        var nuclei = ["image,x,y,class"], images = ["image,width,height,group"]
        func add(_ image: String, _ x: Double, _ y: Double, _ c: Int) {
            if x >= 0, y >= 0, x < w, y < h { nuclei.append(String(format: "%@,%.1f,%.1f,%d", image, x, y, c)) }
        }
        for k in 0..<3 {
            images.append("clustered\(k),4032,3072,A23187")
            for _ in 0..<300 {
                let px = uniform() * w, py = uniform() * h
                for _ in 0..<6 { add("clustered\(k)", px + 25 * normal(), py + 25 * normal(), 2) }
            }
            images.append("dispersed\(k),4032,3072,PMA")
            for gx in stride(from: 40.0, to: w, by: 96) {
                for gy in stride(from: 40.0, to: h, by: 96) { add("dispersed\(k)", gx + 30 * (uniform() - 0.5), gy + 30 * (uniform() - 0.5), 2) }
            }
            for _ in 0..<300 { add("dispersed\(k)", uniform() * w, uniform() * h, 1) }
        }
        return (nuclei.joined(separator: "\n") + "\n", images.joined(separator: "\n") + "\n")
    }

    /// A CSV output as rows keyed by header (quoted fields with commas parsed as any reader would).
    func rows(_ path: String) throws -> [[String: String]] {
        let records = try CSVRecords.parse(try String(contentsOfFile: path, encoding: .utf8))
        let header = records[0].fields
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.fields)) }
    }

    func testClusteredAndDispersedNETsAreTold() throws {
        let folder = try makeTemporaryDirectory("netosis-clustering")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (nuclei, images) = Self.tables(seed: 5)
        let n = folder.appendingPathComponent("nuclei.csv").path, i = folder.appendingPathComponent("images.csv").path
        try nuclei.write(toFile: n, atomically: true, encoding: .utf8)
        try images.write(toFile: i, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out").path
        let result = try runProgram(try netosis, ["analyze", "clustering", "--nuclei", n, "--images", i, "--out", out, "--repetitions", "10"])
        XCTAssertEqual(result.status, 0, result.output)
        // Whole images and every kept tile get the right verdict.
        let perImage = try rows(out + "/images.csv")
        XCTAssertEqual(perImage.count, 6)
        for row in perImage {
            XCTAssertEqual(row["pattern"], row["group"] == "A23187" ? "clustered" : "dispersed", "\(row)")
            let netotic = nuclei.split(separator: "\n").filter { $0.hasPrefix(row["image"]! + ",") && $0.hasSuffix(",2") }.count
            XCTAssertEqual(row["netotic"], "\(netotic)", "only class 2 counts")
        }
        let tiles = try rows(out + "/tiles.csv")
        XCTAssertEqual(tiles.count, 6 * 42)
        let kept = tiles.filter { !$0["annd"]!.isEmpty }
        XCTAssertGreaterThan(kept.count, 200)
        for t in kept { XCTAssertEqual(t["pattern"], t["group"] == "A23187" ? "clustered" : "dispersed", "\(t)") }
        for t in tiles where t["annd"]!.isEmpty { XCTAssertLessThan(Int(t["netotic"]!)!, 20); XCTAssertFalse(t["excluded"]!.isEmpty) }
        // The paper's comparison: clustered tiles have nearer neighbours in every draw.
        let comparison = try XCTUnwrap(try rows(out + "/comparisons.csv").first)
        XCTAssertEqual(comparison["draws"], "10")
        XCTAssertLessThan(Double(comparison["ks_median_p"]!)!, 0.025)
        XCTAssertLessThan(Double(comparison["paired_t_median_p"]!)!, 0.025)
        XCTAssertEqual(comparison["ks_fraction_below_alpha"], "1")
        XCTAssertLessThan(Double(comparison["mean_annd_difference"]!)!, 0, "A23187 (first) is the clustered one")
        let svg = try String(contentsOfFile: out + "/annd-cdf.svg", encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        // The same seed gives the same draws.
        let again = folder.appendingPathComponent("again").path
        XCTAssertEqual(try runProgram(try netosis, ["analyze", "clustering", "--nuclei", n, "--images", i, "--out", again, "--repetitions", "10"]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: again + "/comparisons.csv", encoding: .utf8),
                       try String(contentsOfFile: out + "/comparisons.csv", encoding: .utf8))
        // Bad input: one line each.
        let outside = folder.appendingPathComponent("outside.csv").path
        try "image,x,y,class\nclustered0,5000,10,2\n".write(toFile: outside, atomically: true, encoding: .utf8)
        for (arguments, message) in [
            (["--nuclei", outside, "--images", i], "\(outside): line 2: x, y = 5000, 10 is not inside the 4032×3072 image clustered0"),
            (["--nuclei", n], "the nuclei table needs its images table"),
            (["--nuclei", n, "--images", i, "--compare", "A23187,LPS"], "--compare: 'LPS' is not a group of the input (groups: A23187, PMA)"),
        ] {
            let bad = try runProgram(try netosis, ["analyze", "clustering", "--out", folder.appendingPathComponent("bad").path] + arguments)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.output.contains(message), "\(arguments): \(bad.output)")
        }
    }
}
