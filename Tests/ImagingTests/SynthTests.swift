import Foundation
import Imaging
import TestSupport
import XCTest

/// Small synthetic sets written once per test class (each well is small so the suite stays fast).
private enum SynthFixture {
    static let options = SynthSet.Options(seed: 5, plates: 2, wells: 4, width: 672, height: 512)

    static func write(_ options: SynthSet.Options = options) throws -> URL {
        let dir = try makeTemporaryDirectory("synth")
        try SynthSet.write(options, to: dir.path)
        return dir
    }

    static func files(_ dir: URL) throws -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for sub in ["", "images", "annotations"] {
            let d = sub.isEmpty ? dir : dir.appendingPathComponent(sub)
            for name in try fm.contentsOfDirectory(atPath: d.path).sorted() where !name.hasPrefix(".") {
                var isDir: ObjCBool = false
                let p = d.appendingPathComponent(name).path
                if fm.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue {
                    out.append(sub.isEmpty ? name : "\(sub)/\(name)")
                }
            }
        }
        return out
    }

    /// CSV as dictionaries keyed by header.
    static func table(_ url: URL) throws -> [[String: String]] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
    }
}

final class SynthDeterminismTests: XCTestCase {
    func testSameSeedSameBytesDifferentSeedDifferentImages() throws {
        let a = try SynthFixture.write(), b = try SynthFixture.write()
        var other = SynthFixture.options
        other.seed = 6
        let c = try SynthFixture.write(other)
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(at: d) } }
        let files = try SynthFixture.files(a)
        XCTAssertEqual(files, try SynthFixture.files(b))
        XCTAssertEqual(files.filter { $0.hasPrefix("images/") }.count, 8)
        XCTAssertEqual(files.filter { $0.hasPrefix("annotations/CellCounter_") }.count, 8)
        for f in ["platemap.csv", "truth_nuclei.csv", "truth_wells.csv", "synth.json"] { XCTAssertTrue(files.contains(f), f) }
        for f in files {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(f)), try Data(contentsOf: b.appendingPathComponent(f)), f)
        }
        var differing = 0
        for f in files where f.hasPrefix("images/") {
            if try Data(contentsOf: a.appendingPathComponent(f)) != Data(contentsOf: c.appendingPathComponent(f)) { differing += 1 }
        }
        XCTAssertEqual(differing, 8, "another seed must change every well")
        XCTAssertNotEqual(try Data(contentsOf: a.appendingPathComponent("truth_nuclei.csv")),
                          try Data(contentsOf: c.appendingPathComponent("truth_nuclei.csv")))
        // The plate map is a design, not a draw: the same for every seed.
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("platemap.csv")),
                       try Data(contentsOf: c.appendingPathComponent("platemap.csv")))
    }

    func testWellsDoNotDependOnRankCount() throws {
        let options = SynthSet.Options(seed: 11, plates: 1, wells: 3, width: 256, height: 192)
        let plan = PlateDesign.plateMap(plates: 1, wells: 3)
        let one = try makeTemporaryDirectory("synth-1"), three = try makeTemporaryDirectory("synth-3")
        defer { for d in [one, three] { try? FileManager.default.removeItem(at: d) } }
        try SynthSet.write(options, to: one.path)
        for sub in ["images", "annotations"] {
            try FileManager.default.createDirectory(at: three.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        for index in [2, 0, 1] {   // any order, any rank count
            _ = try SynthSet.writeWell(SynthSet.renderWell(index, plan: plan, options: options), to: three.path, options: options)
        }
        for row in plan {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: SynthSet.imagePath(one.path, row.image))),
                           try Data(contentsOf: URL(fileURLWithPath: SynthSet.imagePath(three.path, row.image))), row.image)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: SynthSet.annotationPath(one.path, row.image))),
                           try Data(contentsOf: URL(fileURLWithPath: SynthSet.annotationPath(three.path, row.image))), row.image)
        }
    }

    /// --layout fields writes each well as 672×512 fields that WellCatalog assembles into exactly the
    /// stitched well (same seed), in any acquisition order; switching layout leaves no stale files.
    func testFieldsLayoutAssemblesToTheStitchedWell() throws {
        let dir = try makeTemporaryDirectory("synth-fields")
        defer { try? FileManager.default.removeItem(at: dir) }
        let stitched = SynthSet.Options(seed: 4, plates: 1, wells: 2, width: 1344, height: 1024)
        var fields = stitched
        fields.layout = .fields
        fields.fieldOrder = .snake
        try SynthSet.write(stitched, to: dir.appendingPathComponent("s").path)
        try SynthSet.write(fields, to: dir.appendingPathComponent("f").path)
        var config = WellConfig.standard
        config.grid = fields.grid
        let wells = try WellCatalog.scan(dir.appendingPathComponent("f/images").path, config: config)
        XCTAssertEqual(wells.map(\.name.stem), ["plate01_A01", "plate01_A02"])
        for well in wells {
            XCTAssertEqual(well.paths.count, 4)
            let reference = try TIFFReader.read(SynthSet.imagePath(dir.appendingPathComponent("s").path, well.name.stem))
            XCTAssertTrue(try well.load() == reference, well.name.stem)
        }
        for f in ["truth_nuclei.csv", "truth_wells.csv", "annotations/CellCounter_plate01_A01.xml"] {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("s/\(f)")), try Data(contentsOf: dir.appendingPathComponent("f/\(f)")), f)
        }
        // Rewriting the stitched set as fields (--overwrite) removes the stitched files.
        try SynthSet.write(fields, to: dir.appendingPathComponent("s").path, overwrite: true)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("s/images").path).count, 8)
        XCTAssertNotNil(SynthSet.Options(seed: 1, plates: 1, wells: 1, width: 1000, height: 1024, layout: .fields).problem)
    }

    func testOutputFolderRules() throws {
        let dir = try makeTemporaryDirectory("synth-out")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A foreign, non-empty folder is refused.
        try Data("x".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        XCTAssertThrowsError(try SynthSet.write(SynthSet.Options(seed: 1, plates: 1, wells: 2, width: 128, height: 96), to: dir.path)) {
            XCTAssertTrue("\($0)".hasPrefix(dir.path + ": is not empty and holds no synthetic set (e.g. notes.txt)"), "\($0)")
        }
        XCTAssertThrowsError(try SynthSet.write(SynthSet.Options(seed: 1, plates: 1, wells: 2, width: 128, height: 96),
                                                to: dir.appendingPathComponent("notes.txt/sub").path)) {
            XCTAssertTrue("\($0)".contains("notes.txt is a file, not a folder"), "\($0)")
        }
        // Replacing a set with fewer wells (--overwrite) leaves no stale wells behind.
        let set = dir.appendingPathComponent("set")
        try SynthSet.write(SynthSet.Options(seed: 1, plates: 1, wells: 3, width: 128, height: 96), to: set.path)
        try SynthSet.write(SynthSet.Options(seed: 1, plates: 1, wells: 2, width: 128, height: 96), to: set.path, overwrite: true)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: set.appendingPathComponent("images").path).sorted(),
                       ["plate01_A01.tif", "plate01_A02.tif"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: set.appendingPathComponent("annotations").path).count, 2)
    }

    func testBadOptionsAreRefusedWithOneLine() {
        XCTAssertEqual(SynthSet.Options(seed: 1, plates: 0, wells: 4, width: 672, height: 512).problem,
                       "--plates must be 1…99 (got 0)")
        XCTAssertEqual(SynthSet.Options(seed: 1, plates: 1, wells: 97, width: 672, height: 512).problem,
                       "--wells must be 1…96 per plate (got 97)")
        XCTAssertNotNil(SynthSet.Options(seed: 1, plates: 1, wells: 4, width: 10, height: 512).problem)
        XCTAssertThrowsError(try SynthSet.write(SynthSet.Options(seed: 1, plates: 1, wells: 0, width: 672, height: 512),
                                                to: "/tmp/never-written")) {
            XCTAssertEqual("\($0)", "/tmp/never-written: --wells must be 1…96 per plate (got 0)")
        }
    }
}

final class SynthTruthTests: XCTestCase {
    func testMarkersTruthRowsAndPlateMapAgree() throws {
        let dir = try SynthFixture.write()
        defer { try? FileManager.default.removeItem(at: dir) }
        let platemap = try SynthFixture.table(dir.appendingPathComponent("platemap.csv"))
        let nuclei = try SynthFixture.table(dir.appendingPathComponent("truth_nuclei.csv"))
        let wells = try SynthFixture.table(dir.appendingPathComponent("truth_wells.csv"))
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("platemap.csv"), encoding: .utf8)
            .split(separator: "\n").first.map(String.init), "plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype")
        XCTAssertEqual(platemap.count, 8)
        XCTAssertEqual(wells.map { $0["image"]! }, platemap.map { "\($0["plate"]!)_\($0["well"]!)" })
        for (w, p) in zip(wells, platemap) {
            XCTAssertEqual(w["agonist"], p["agonist"])
            XCTAssertEqual(w["genotype"], p["genotype"])
            // expected_fraction is the 4PL of the plate-map row; the drawn fraction is within binomial noise.
            let response = PlateDesign.response(Agonist(rawValue: p["agonist"]!)!, Genotype(rawValue: p["genotype"]!)!)
            let f = response.fraction(at: Double(p["concentration"]!)!)
            XCTAssertEqual(Double(w["expected_fraction"]!)!, f, accuracy: 1e-6)
            let n = Double(Int(w["non_netotic"]!)! + Int(w["netotic"]!)!)
            XCTAssertLessThan(abs(Double(w["observed_fraction"]!)! - f), 4 * (f * (1 - f) / n).squareRoot(), w["image"]!)
            let image = w["image"]!
            let rows = nuclei.filter { $0["image"] == image }
            let set = try CellCounterXML.read(SynthSet.annotationPath(dir.path, image))
            XCTAssertEqual(set.imageName, image + ".tif")
            XCTAssertEqual(set.markers.count, rows.count, image)
            // Marker ↔ truth row, in order, type by class, position rounded.
            let typeOf = ["0": 4, "1": 1, "2": 2]
            let expected = rows.map { Marker(x: Double(Int(Double($0["x"]!)!.rounded())), y: Double(Int(Double($0["y"]!)!.rounded())),
                                             type: typeOf[$0["class"]!]!) }
            XCTAssertEqual(set.markers.sorted { ($0.type, $0.x, $0.y) < ($1.type, $1.x, $1.y) },
                           expected.sorted { ($0.type, $0.x, $0.y) < ($1.type, $1.x, $1.y) }, image)
            let n1 = rows.filter { $0["class"] == "1" }.count, n2 = rows.filter { $0["class"] == "2" }.count
            XCTAssertEqual(Int(w["non_netotic"]!), n1)
            XCTAssertEqual(Int(w["netotic"]!), n2)
            XCTAssertEqual(Int(w["other"]!), rows.filter { $0["class"] == "0" }.count)
            XCTAssertEqual(Double(w["observed_fraction"]!)!, Double(n2) / Double(n1 + n2), accuracy: 1e-6)
            // Every object lies inside the image and has a sane footprint.
            for r in rows {
                let x = Double(r["x"]!)!, y = Double(r["y"]!)!
                XCTAssertTrue(x >= 0 && x < 672 && y >= 0 && y < 512, "\(image) \(x),\(y)")
                XCTAssertGreaterThan(Int(r["area"]!)!, 8)
            }
        }
        // Touching is modest (5–10% of nuclei is the brief; allow some slack on small wells).
        let touching = nuclei.filter { $0["touching"] == "1" }.count
        let fraction = Double(touching) / Double(nuclei.count)
        XCTAssertTrue(fraction > 0.02 && fraction < 0.13, "touching fraction \(fraction)")
    }

    func testPlateMapDesign() {
        let map = PlateDesign.plateMap(plates: 2, wells: 96)
        XCTAssertEqual(map.count, 192)
        XCTAssertEqual(Set(map.map(\.well)).count, 96)
        XCTAssertEqual(map.filter { $0.agonist == .dmso }.count, 16)
        let pma = map.filter { $0.agonist == .pma }.map(\.concentration)
        let a23 = map.filter { $0.agonist == .a23187 }.map(\.concentration)
        XCTAssertEqual(pma.min(), 0.001); XCTAssertEqual(pma.max(), 200)
        XCTAssertEqual(a23.min(), 0.05); XCTAssertEqual(a23.max(), 8)
        XCTAssertEqual(Set(map.filter { $0.plate == "plate01" }.map(\.genotype)), [.control])
        XCTAssertEqual(Set(map.filter { $0.plate == "plate02" }.map(\.genotype)), [.sickleCell])
        let small = PlateDesign.plateMap(plates: 1, wells: 12)
        XCTAssertEqual(small.map(\.well), (1...12).map { WellName.wellName(row: 0, column: $0) })
        XCTAssertEqual(small.first?.agonist, .dmso)
    }

    func testDoseResponseShapes() {
        let pmaC = PlateDesign.response(.pma, .control), pmaS = PlateDesign.response(.pma, .sickleCell)
        let aC = PlateDesign.response(.a23187, .control), aS = PlateDesign.response(.a23187, .sickleCell)
        XCTAssertEqual(pmaC.fraction(at: pmaC.ec50), (pmaC.bottom + pmaC.top) / 2, accuracy: 1e-12)
        XCTAssertEqual(pmaC.fraction(at: 0), pmaC.bottom)
        XCTAssertLessThan(pmaC.fraction(at: 0.1), pmaC.fraction(at: 1))
        // Sickle-cell donors: weak PMA response, normal A23187 response.
        XCTAssertLessThan(pmaS.fraction(at: 200) - pmaS.bottom, 0.4 * (pmaC.fraction(at: 200) - pmaC.bottom))
        XCTAssertEqual(aS.fraction(at: 8) - aS.bottom, aC.fraction(at: 8) - aC.bottom, accuracy: 0.05)
    }

    /// Each well's NETotic count is Binomial(nuclei, 4PL(concentration)): every well within 4 SD, and the
    /// sum of squared z-scores is what a chi-square with that many degrees of freedom allows.
    func testNETFractionFollowsThePlateMap() {
        let options = SynthSet.Options(seed: 21, plates: 2, wells: 12, width: 1008, height: 768)
        let plan = PlateDesign.plateMap(plates: 2, wells: 12)
        var chi2 = 0.0
        var pmaTop: [Genotype: Double] = [:]
        for i in plan.indices {
            let well = SynthSet.renderWell(i, plan: plan, options: options)
            let n = well.count(.nonNETotic) + well.count(.netotic)
            let p = PlateDesign.expectedFraction(plan[i])
            XCTAssertEqual(well.expectedFraction, p)
            let sd = (p * (1 - p) / Double(n)).squareRoot()
            let z = (well.observedFraction - p) / sd
            XCTAssertLessThan(abs(z), 4, "\(plan[i].image): observed \(well.observedFraction), expected \(p), n \(n)")
            chi2 += z * z
            if plan[i].agonist == .pma && plan[i].concentration == 200 { pmaTop[plan[i].genotype] = well.observedFraction }
        }
        XCTAssertLessThan(chi2, 50, "24 wells: chi-square \(chi2) (p < 0.001 above 51)")
        XCTAssertGreaterThan(pmaTop[.control]! - pmaTop[.sickleCell]!, 0.25)
    }

    /// NETotic nuclei are clustered under A23187 and dispersed under PMA: the variance-to-mean ratio of
    /// NET counts in 8 × 6 quadrats is ≈ 1 (or below, as nuclei do not overlap) for a dispersed pattern
    /// and well above 1 for a clustered one — at every dose with enough NETs.
    func testA23187ClustersNETsAndPMADispersesThem() {
        let options = SynthSet.Options(seed: 3, plates: 1, wells: 12, width: 1344, height: 1024)
        let plan = PlateDesign.plateMap(plates: 1, wells: 12)
        var checked = 0
        for i in plan.indices where plan[i].agonist != .dmso {
            let nets = SynthSet.renderWell(i, plan: plan, options: options).objects.filter { $0.cls == .netotic }
            guard nets.count >= 20 else { continue }
            var counts = [Double](repeating: 0, count: 48)
            for o in nets { counts[min(7, Int(o.x / 168)) + 8 * min(5, Int(o.y / (1024.0 / 6)))] += 1 }
            let mean = counts.reduce(0, +) / 48
            let vmr = counts.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 47 / mean
            if plan[i].agonist == .a23187 {
                XCTAssertGreaterThan(vmr, 2.0, "\(plan[i].image) A23187 \(plan[i].concentration): NETs should cluster (VMR \(vmr))")
            } else {
                XCTAssertLessThan(vmr, 1.6, "\(plan[i].image) PMA \(plan[i].concentration): NETs should be dispersed (VMR \(vmr))")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 8)
    }
}
