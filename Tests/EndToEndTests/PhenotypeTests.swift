import Analysis
import Foundation
import Imaging
import TestSupport
import XCTest

/// The paper's phenotype and necrosis CNNs on `synth --phenotypes` plates: PMA vs A23187 NETotic
/// nuclei (a known overlap, so the generator's separability bounds what a classifier can reach) and
/// A23187 NETotic vs necrotic (freeze wells), through `prepare --label-by platemap:agonist`, `train`
/// on two ranks and `evaluate` (0.5 threshold, confusion matrix).
final class PhenotypeTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("phenotypes") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The Monte Carlo separability equals the exact Bayes accuracy, computed here independently by
    /// integrating max(π p_PMA, (1 − π) p_A23187) over the cells the uniform ranges cut the latent space into.
    func testSeparabilityIsTheExactBayesAccuracy() {
        for share in [0.5, 0.3] {
            let exact = Self.exactBayesAccuracy(pmaShare: share)
            let estimate = Phenotypes.separability(pmaShare: share, draws: 200_000, seed: 5)
            let se = (exact * (1 - exact) / 200_000).squareRoot()
            XCTAssertEqual(estimate, exact, accuracy: 4 * se, "PMA share \(share)")
        }
        // 70% typical, 30% shared: far from chance, far from perfect (the paper's CNN: ~73%).
        let balanced = Self.exactBayesAccuracy(pmaShare: 0.5)
        XCTAssertGreaterThan(balanced, 0.8); XCTAssertLessThan(balanced, 0.9)
    }

    static func exactBayesAccuracy(pmaShare π: Double) -> Double {
        let p = Phenotypes.ranges(.pma), a = Phenotypes.ranges(.a23187), s = Phenotypes.ranges(.shared)
        let q = Phenotypes.typicalShare
        // Per dimension, the cuts at every range end; a cell is a product of one interval per dimension.
        let cuts = (0..<5).map { d in Array(Set([p[d], a[d], s[d]].flatMap { [$0.lowerBound, $0.upperBound] })).sorted() }
        func inside(_ r: [ClosedRange<Double>], _ mid: [Double]) -> Double {
            zip(r, mid).allSatisfy { $0.contains($1) } ? 1 / r.map { $0.upperBound - $0.lowerBound }.reduce(1, *) : 0
        }
        var total = 0.0
        func walk(_ d: Int, _ mid: [Double], _ volume: Double) {
            if d == 5 {
                let dp = q * inside(p, mid) + (1 - q) * inside(s, mid), da = q * inside(a, mid) + (1 - q) * inside(s, mid)
                total += volume * max(π * dp, (1 - π) * da)
                return
            }
            for i in 0..<(cuts[d].count - 1) {
                walk(d + 1, mid + [(cuts[d][i] + cuts[d][i + 1]) / 2], volume * (cuts[d][i + 1] - cuts[d][i]))
            }
        }
        walk(0, [], 1)
        return total
    }

    func testPhenotypeAndNecrosisCNNs() throws {
        let netosis = try productPath("netosis")
        func run(_ ranks: Int, _ arguments: [String]) throws -> String {
            let result = ranks == 1 ? try runProgram(netosis, arguments, timeout: 300) : try mpirun(ranks, netosis, arguments, timeout: 300)
            XCTAssertEqual(result.status, 0, "netosis \(arguments.joined(separator: " ")): \(result.output)")
            return result.output
        }
        _ = try run(1, ["synth", "--out", path("set"), "--plates", "3", "--wells", "24", "--width", "672", "--height", "512",
                        "--seed", "11", "--phenotypes"])

        // The set: 2 freeze wells per plate after the 24, necrotic nuclei (type 3) only there, and the
        // agonists' NETs differ as designed (PMA's typical radius 11.5–15 px, A23187's 8.5–12).
        let plateMap = try PlateMap.read(path("set/platemap.csv"))
        let agonistOf = Dictionary(uniqueKeysWithValues: plateMap.entries.map { ("\($0.plate)_\($0.well)", $0.agonist) })
        XCTAssertEqual(plateMap.entries.filter { $0.agonist == "freeze" }.count, 3 * 2)
        let truth = try String(contentsOfFile: path("set/truth_nuclei.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        var radii: [String: [Double]] = [:], nets: [String: Int] = [:]
        for row in truth {
            let agonist = agonistOf[row[2]]!
            if row[6] == "necrotic" { XCTAssertEqual(agonist, "freeze", "necrotic nucleus in \(row[2])") }
            if row[6] == "netotic" { radii[agonist, default: []].append(Double(row[7])!); nets[agonist, default: 0] += 1 }
        }
        XCTAssertGreaterThan(truth.filter { $0[6] == "necrotic" }.count, 200)
        let meanRadius = radii.mapValues { $0.reduce(0, +) / Double($0.count) }
        XCTAssertGreaterThan(meanRadius["PMA"]!, meanRadius["A23187"]! + 0.8, "\(meanRadius)")
        XCTAssertTrue(try String(contentsOfFile: path("set/annotations/CellCounter_plate01_C01.xml"), encoding: .utf8)
            .contains("<Type>3</Type>\r\n         <Marker>"), "a freeze well's XML holds type-3 markers")

        // PMA vs A23187: every type-2 marker of those wells, and nothing else, labelled by agonist.
        let prepared = try run(1, ["prepare", "--images", path("set/images"), "--annotations", path("set/annotations"),
                                   "--out", path("agonist.h5"), "--mode", "point", "--negatives", "0", "--patch-size", "48",
                                   "--split-by", "well", "--seed", "2", "--val-fraction", "0.15", "--test-fraction", "0.3",
                                   "--label-by", "platemap:agonist", "--platemap", path("set/platemap.csv"), "--classes", "PMA,A23187"])
        XCTAssertTrue(prepared.contains("PMA (class 0), A23187 (class 1)"), prepared)
        let data = try PatchDataset(path: path("agonist.h5"))
        XCTAssertEqual(data.classNames, ["PMA", "A23187"])
        XCTAssertEqual(data.labels.filter { $0 == 0 }.count, nets["PMA"]!)
        XCTAssertEqual(data.labels.filter { $0 == 1 }.count, nets["A23187"]!)

        _ = try run(2, ["train", "--data", path("agonist.h5"), "--model", "phenotype-narrow", "--out", path("agonist"),
                        "--epochs", "20", "--batch-size", "32", "--optimizer", "adam", "--lr", "0.002", "--patience", "0", "--seed", "1"])
        _ = try run(1, ["evaluate", "--checkpoint", path("agonist/model.h5"), "--data", path("agonist.h5"), "--split", "test",
                        "--json", path("agonist.json")])
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("agonist.json")))) as! [String: Any]
        let balanced = report["balancedAccuracy"] as! Double, support = report["support"] as! [Int]
        let bound = Phenotypes.separability(pmaShare: 0.5)
        print("phenotype: PMA vs A23187 test balanced accuracy \(balanced), accuracy \(report["accuracy"]!), confusion \(report["confusion"]!), separability \(bound)")
        // Well above chance, and not far above what the shapes allow (the crops also show neighbours, and
        // A23187 NETs cluster: worth about a point on larger sets, docs/methods.md).
        XCTAssertGreaterThan(balanced, 0.68, "PMA vs A23187 balanced accuracy \(balanced), bound \(bound), support \(support)")
        XCTAssertLessThan(balanced, bound + 0.06, "far beyond the shapes' separability \(bound): the classes leak something else")

        // A23187 NETotic vs necrotic: the paper's second binary CNN (> 99%).
        _ = try run(1, ["prepare", "--images", path("set/images"), "--annotations", path("set/annotations"),
                        "--out", path("necrosis.h5"), "--mode", "point", "--negatives", "0", "--patch-size", "48",
                        "--split-by", "image", "--seed", "2", "--label-by", "platemap:agonist",
                        "--platemap", path("set/platemap.csv"), "--classes", "A23187,freeze", "--label-types", "2,3"])
        _ = try run(2, ["train", "--data", path("necrosis.h5"), "--model", "phenotype-narrow", "--out", path("necrosis"),
                        "--epochs", "8", "--batch-size", "32", "--optimizer", "adam", "--lr", "0.002", "--patience", "0", "--seed", "1"])
        _ = try run(1, ["evaluate", "--checkpoint", path("necrosis/model.h5"), "--data", path("necrosis.h5"), "--split", "test",
                        "--json", path("necrosis.json")])
        let necrosis = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("necrosis.json")))) as! [String: Any]
        print("phenotype: A23187 vs freeze test balanced accuracy \(necrosis["balancedAccuracy"]!), confusion \(necrosis["confusion"]!)")
        XCTAssertEqual((necrosis["support"] as! [Int]).filter { $0 > 20 }.count, 2, "both classes in the test split")
        XCTAssertGreaterThan(necrosis["balancedAccuracy"] as! Double, 0.95, "\(necrosis["confusion"]!)")
    }

    func testLabelByRefusals() throws {
        let netosis = try productPath("netosis")
        _ = try runProgram(netosis, ["synth", "--out", path("set"), "--plates", "1", "--wells", "6", "--width", "320", "--height", "256",
                                     "--phenotypes"])
        func refused(_ extra: [String], _ expected: String) throws {
            let r = try runProgram(netosis, ["prepare", "--images", path("set/images"), "--annotations", path("set/annotations"),
                                             "--out", path("p.h5"), "--mode", "point"] + extra)
            XCTAssertNotEqual(r.status, 0, extra.joined(separator: " "))
            XCTAssertTrue(r.output.contains(expected), "\(extra): \(r.output)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("p.h5")))
        }
        try refused(["--label-by", "platemap:agonist", "--platemap", path("set/platemap.csv"), "--classes", "PMA,LPS"],
                    "has no well treated with 'LPS'")
        try refused(["--label-by", "platemap:donor", "--platemap", path("set/platemap.csv")], "platemap:agonist")
        try refused(["--label-by", "platemap:agonist"], "needs --platemap")
        try refused(["--classes", "PMA,A23187"], "go with --label-by")
        try refused(["--label-by", "platemap:agonist", "--platemap", path("set/platemap.csv"), "--label-types", "two"], "--label-types")
        // Without --phenotypes nothing of it exists: no freeze wells, no necrotic nuclei.
        _ = try runProgram(netosis, ["synth", "--out", path("plain"), "--plates", "1", "--wells", "6", "--width", "320", "--height", "256"])
        let plain = try String(contentsOfFile: path("plain/platemap.csv"), encoding: .utf8)
        XCTAssertFalse(plain.contains("freeze"))
        XCTAssertFalse(try String(contentsOfFile: path("plain/truth_nuclei.csv"), encoding: .utf8).contains("necrotic"))
        XCTAssertFalse(try String(contentsOfFile: path("plain/synth.json"), encoding: .utf8).contains("phenotypes"))
    }
}
