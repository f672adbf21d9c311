import Determinism
import Foundation
import Imaging
import TestSupport
import XCTest

final class WellsNameTests: XCTestCase {
    func testParsesRealSampleStems() throws {
        let naming = WellNaming.standard
        let a = try naming.parse("21b_b3.2_1")
        XCTAssertEqual(a.experiment, "21b")
        XCTAssertEqual(a.plate, "21b")
        XCTAssertEqual(a.well, "B03")
        XCTAssertEqual(a.row, 1)
        XCTAssertEqual(a.column, 3)
        XCTAssertNil(a.field)
        XCTAssertEqual(a.site, "2_1")
        let b = try naming.parse("/data/tiff/5_c6.3_1.tif")
        XCTAssertEqual(b.experiment, "5")
        XCTAssertEqual(b.well, "C06")
        XCTAssertEqual(b.stem, "5_c6.3_1")
    }

    func testEveryRealSampleStemParses() throws {
        guard let sample = try sharedDataDirectory("netosis-sample") else { throw XCTSkip("netosis-sample not available") }
        let files = try FileManager.default.contentsOfDirectory(atPath: sample.appendingPathComponent("tiff").path)
            .filter { $0.hasSuffix(".tif") }
        XCTAssertEqual(files.count, 27)
        for f in files {
            let name = try WellNaming.standard.parse(f)
            XCTAssertEqual(name.well.count, 3, f)
            XCTAssertTrue(f.hasPrefix(name.experiment + "_"), f)
            XCTAssertNotNil(name.site, f)
        }
        // The sample folder catalogues as 27 single-field images of 8-bit wells.
        let wells = try WellCatalog.scan(sample.appendingPathComponent("tiff").path)
        XCTAssertEqual(wells.count, 27)
        XCTAssertEqual(Set(wells.map(\.name.experiment)), ["21b", "22a", "24a", "24b", "5"])
        let first = try wells[0].load()
        XCTAssertEqual(first.bitDepth, 8)
        XCTAssertEqual(first.width, 672)
        XCTAssertEqual(first.height, 512)
    }

    func testParsesSyntheticNames() throws {
        let naming = WellNaming.standard
        let s = try naming.parse("out/images/plate01_B03.tif")
        XCTAssertEqual(s.plate, "plate01")
        XCTAssertEqual(s.experiment, "plate01")
        XCTAssertEqual(s.well, "B03")
        XCTAssertNil(s.field)
        let f = try naming.parse("plate02_h12_f36.tiff")
        XCTAssertEqual(f.well, "H12")
        XCTAssertEqual(f.field, 36)
        XCTAssertEqual(f.wellKey, "plate02/H12")
        // Every name the generator writes parses back to its plate and well.
        for row in PlateDesign.plateMap(plates: 2, wells: 96) {
            let n = try naming.parse(row.image + ".tif")
            XCTAssertEqual(n.plate, row.plate)
            XCTAssertEqual(n.well, row.well)
        }
    }

    func testBadNamesGiveOneLineErrorNamingTheFile() {
        for bad in ["images/notawell.tif", "plate01_Z03.tif", "plate01_B99.tif", "plate01_B03_fx.tif", "_B03.tif"] {
            XCTAssertThrowsError(try WellNaming.standard.parse(bad), bad) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(bad + ": "), text)
                XCTAssertTrue(text.contains("gives no plate and well"), text)
                XCTAssertFalse(text.contains("\n"), text)
            }
        }
    }

    func testWellNormalisation() {
        XCTAssertEqual(WellName.normaliseWell("b3")?.well, "B03")
        XCTAssertEqual(WellName.normaliseWell("H12")?.well, "H12")
        XCTAssertEqual(WellName.normaliseWell("p24")?.row, 15)
        XCTAssertNil(WellName.normaliseWell("Q1"))
        XCTAssertNil(WellName.normaliseWell("B0"))
        XCTAssertNil(WellName.normaliseWell("B"))
        XCTAssertEqual(WellName.wellName(row: 7, column: 9), "H09")
    }

    func testConfigFileEqualsBuiltInDefaults() throws {
        let path = repositoryRoot().appendingPathComponent("config/wells.yaml").path
        let file = try WellConfig.load(path)
        let builtIn = WellConfig.standard
        XCTAssertEqual(file.naming.patterns.map(\.name), builtIn.naming.patterns.map(\.name))
        XCTAssertEqual(file.naming.patterns.map(\.pattern), builtIn.naming.patterns.map(\.pattern))
        XCTAssertEqual(file.grid, builtIn.grid)
        XCTAssertEqual(file.extensions, builtIn.extensions)
    }

    func testBadConfigFilesGiveOneLineErrorsNamingTheFile() throws {
        let dir = try makeTemporaryDirectory("wells-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("missing.yaml").path
        XCTAssertThrowsError(try WellConfig.load(missing)) { XCTAssertEqual("\($0)", "\(missing): no such file") }
        for (name, text, expect) in [("broken.yaml", "patterns: [\n  - {regex: 'a'\n", "line 2, column 3: not valid YAML: "),
                                     ("order.yaml", "fields:\n  order: diagonal\n",
                                      "line 2, column 3: fields.order: 'diagonal' is not one of row-major, column-major, snake"),
                                     ("types.yaml", "fields:\n  columns: six\n", "line 2, column 3: fields.columns: expected a whole number, found 'six'")] {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try WellConfig.load(path), name) {
                XCTAssertTrue("\($0)".hasPrefix(path + ": "), "\($0)")
                XCTAssertTrue("\($0)".contains(expect), "\($0)")
                XCTAssertFalse("\($0)".contains("\n"), "\($0)")
            }
        }
    }

    func testCustomPatternAndBadConfig() throws {
        let config = try WellConfig.parse(yaml: """
        patterns:
          - name: scope
            regex: '^(?<plate>P[0-9]+)-r(?<row>[A-H])c(?<column>[0-9]+)-s(?<field>[0-9]+)$'
        fields: {columns: 2, rows: 3, order: snake, first_index: 0}
        """)
        let n = try config.naming.parse("P7-rCc4-s5.tif")
        XCTAssertEqual(n.plate, "P7")
        XCTAssertEqual(n.well, "C04")
        XCTAssertEqual(n.field, 5)
        XCTAssertEqual(config.grid.columns, 2)
        XCTAssertEqual(config.grid.order, .snake)
        XCTAssertEqual(config.grid.fieldWidth, 672)
        XCTAssertThrowsError(try WellConfig.parse(yaml: "patterns:\n  - regex: '^(?<plate>[a-z]+)$'\n")) {
            XCTAssertTrue("\($0)".contains("no (?<well>"), "\($0)")
        }
        XCTAssertThrowsError(try WellConfig.parse(yaml: "patterns:\n  - regex: '^(?<well>[a-z'\n")) {
            XCTAssertTrue("\($0)".contains("not a valid regular expression"), "\($0)")
        }
        XCTAssertThrowsError(try WellConfig.parse(yaml: "fields: {order: spiral}\n")) {
            XCTAssertTrue("\($0)".contains("spiral"), "\($0)")
        }
    }
}

final class WellsFieldTests: XCTestCase {
    func testFieldOrders() {
        var g = FieldGrid(columns: 3, rows: 2)
        XCTAssertEqual((0..<6).map { g.cell(ofPosition: $0).column }, [0, 1, 2, 0, 1, 2])
        g.order = .columnMajor
        XCTAssertEqual((0..<6).map { g.cell(ofPosition: $0).column }, [0, 0, 1, 1, 2, 2])
        XCTAssertEqual((0..<6).map { g.cell(ofPosition: $0).row }, [0, 1, 0, 1, 0, 1])
        g.order = .snake
        XCTAssertEqual((0..<6).map { g.cell(ofPosition: $0).column }, [0, 1, 2, 2, 1, 0])
        XCTAssertEqual((0..<6).map { g.cell(ofPosition: $0).row }, [0, 0, 0, 1, 1, 1])
    }

    /// A well image whose every pixel says where it is (so a misplaced field cannot go unnoticed).
    private func patternWell(_ grid: FieldGrid, bitDepth: Int) -> GrayImage {
        var rng = SplitMix64(seed: 99)
        let mask: UInt64 = bitDepth == 8 ? 0xFF : 0xFFFF
        let pixels = (0..<(grid.wellWidth * grid.wellHeight)).map { _ in UInt16(truncatingIfNeeded: rng.next() & mask) }
        return GrayImage(width: grid.wellWidth, height: grid.wellHeight, bitDepth: bitDepth, pixels: pixels)
    }

    func testThirtySixFieldsAssembleToTheWell() throws {
        let dir = try makeTemporaryDirectory("wells")
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = FieldGrid()   // 6×6 of 672×512, row-major, _f01…_f36
        let well = patternWell(grid, bitDepth: 16)
        let fields = try grid.split(well)
        XCTAssertEqual(fields.count, 36)
        for (k, f) in fields.enumerated() {
            let name = String(format: "plate01_B03_f%02d.tif", k + 1)
            try TIFFWriter.write(f, to: dir.appendingPathComponent(name).path, compression: .none)
        }
        let wells = try WellCatalog.scan(dir.path)
        XCTAssertEqual(wells.count, 1)
        XCTAssertEqual(wells[0].name.wellKey, "plate01/B03")
        XCTAssertEqual(wells[0].paths.count, 36)
        let loaded = try wells[0].load()
        XCTAssertEqual(loaded.width, 4032)
        XCTAssertEqual(loaded.height, 3072)
        XCTAssertEqual(loaded.bitDepth, 16)
        XCTAssertTrue(loaded.pixels == well.pixels, "assembled well differs from the original")
    }

    func testEightBitSnakeAndColumnMajorRoundTrip() throws {
        for order in [FieldOrder.snake, .columnMajor] {
            let dir = try makeTemporaryDirectory("wells8")
            defer { try? FileManager.default.removeItem(at: dir) }
            var config = WellConfig.standard
            config.grid = FieldGrid(columns: 3, rows: 2, fieldWidth: 40, fieldHeight: 30, order: order, firstIndex: 0)
            let well = patternWell(config.grid, bitDepth: 8)
            for (k, f) in try config.grid.split(well).enumerated() {
                try TIFFWriter.write(f, to: dir.appendingPathComponent("p1_A01_f\(k).tif").path)
            }
            let wells = try WellCatalog.scan(dir.path, config: config)
            let loaded = try wells[0].load()
            XCTAssertEqual(loaded.bitDepth, 8)
            XCTAssertEqual(loaded, well, "\(order)")
            // The same files read in the wrong order do not give the well back.
            var wrong = config
            wrong.grid.order = order == .snake ? .rowMajor : .snake
            XCTAssertNotEqual(try WellCatalog.scan(dir.path, config: wrong)[0].load(), well)
        }
    }

    func testCatalogMixesStitchedWellsAndSampleFields() throws {
        let dir = try makeTemporaryDirectory("wells-mixed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let img = GrayImage(width: 8, height: 6, bitDepth: 16, fill: 7)
        for name in ["plate01_A02.tif", "plate01_A01.tif", "21b_b3.2_1.tif", "21b_b3.3_0.tif", "notes.txt"] {
            try TIFFWriter.write(img, to: dir.appendingPathComponent(name).path)
        }
        let wells = try WellCatalog.scan(dir.path)
        XCTAssertEqual(wells.map(\.name.stem), ["21b_b3.2_1", "21b_b3.3_0", "plate01_A01", "plate01_A02"])
        XCTAssertEqual(try wells[2].load(), img)
        if case .stitched = wells[0].source {} else { XCTFail("sample field should be a single image") }
    }

    func testCatalogErrorsNameTheFile() throws {
        let dir = try makeTemporaryDirectory("wells-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = WellConfig.standard
        config.grid = FieldGrid(columns: 2, rows: 1, fieldWidth: 4, fieldHeight: 4)
        let f = GrayImage(width: 4, height: 4, bitDepth: 16, fill: 1)
        let first = dir.appendingPathComponent("plate01_C01_f01.tif").path
        try TIFFWriter.write(f, to: first)
        XCTAssertThrowsError(try WellCatalog.scan(dir.path, config: config)) {
            XCTAssertTrue("\($0)".hasPrefix(first + ": "), "\($0)")
            XCTAssertTrue("\($0)".contains("lacks 1 of 2 fields"), "\($0)")
        }
        try TIFFWriter.write(f, to: dir.appendingPathComponent("plate01_C01_f03.tif").path)
        XCTAssertThrowsError(try WellCatalog.scan(dir.path, config: config)) {
            XCTAssertTrue("\($0)".contains("plate01_C01_f03.tif: field 3 is outside the 2×1 grid"), "\($0)")
        }
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("plate01_C01_f03.tif").path)
        let wrongSize = dir.appendingPathComponent("plate01_C01_f02.tif").path
        try TIFFWriter.write(GrayImage(width: 5, height: 4, bitDepth: 16, fill: 1), to: wrongSize)
        XCTAssertThrowsError(try WellCatalog.scan(dir.path, config: config)[0].load()) {
            XCTAssertEqual("\($0)", "\(wrongSize): field is 5×4; the grid expects 4×4")
        }
        try TIFFWriter.write(f, to: dir.appendingPathComponent("plate01_C01.tif").path)
        XCTAssertThrowsError(try WellCatalog.scan(dir.path, config: config)) {
            XCTAssertTrue("\($0)".contains("both a stitched image and fields"), "\($0)")
        }
        let empty = try makeTemporaryDirectory("wells-empty")
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try WellCatalog.scan(empty.path)) {
            XCTAssertTrue("\($0)".hasPrefix(empty.path + ": holds no images"), "\($0)")
        }
    }
}
