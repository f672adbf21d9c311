import Analysis
import Foundation
import XCTest

/// Reading the plate-map CSV: tolerated spellings and one-line errors with file and line.
final class PlateMapTests: XCTestCase {
    func testReadsTheSynthFormatAndLooksUpWells() throws {
        let text = """
            plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype
            plate01,B03,PMA,0.001,nM,0.1,D01,HbAA
            plate01,B04,DMSO,0,,0.1,D01,HbAA
            plate02,H12,A23187,8,uM,0.1,D02,HbSS

            """
        let map = try PlateMap.parse(text, path: "platemap.csv")
        XCTAssertEqual(map.entries.count, 3)
        XCTAssertEqual(map.extraColumns, [])
        let e = try XCTUnwrap(map.entry(plate: "plate01", well: "b3"))
        XCTAssertEqual(e.agonist, "PMA"); XCTAssertEqual(e.concentration, 0.001); XCTAssertEqual(e.unit, "nM")
        XCTAssertEqual(e.vehiclePct, 0.1); XCTAssertEqual(e.donor, "D01"); XCTAssertEqual(e.genotype, "HbAA")
        XCTAssertEqual(e.row, 1); XCTAssertEqual(e.column, 3); XCTAssertEqual(e.line, 2)
        XCTAssertEqual(map.entry(plate: "plate02", well: "H12")?.genotype, "HbSS")
        XCTAssertEqual(map.entry(plate: "plate01", well: "B04")?.unit, "")
        XCTAssertNil(map.entry(plate: "plate02", well: "B03"))
        XCTAssertNil(map.entry(plate: "plate01", well: "Z99"))
    }

    func testToleratesBOMCRLFQuotesCaseAndExtraColumnsInOrder() throws {
        let text = "\u{FEFF}Timepoint,PLATE,Well,Agonist,Concentration,Unit,Vehicle_Pct,Donor,Genotype,Note\r\n"
            + "4h,P1,b3,PMA,20,nM,0.1,\"Smith, J.\",HbAA,\"said \"\"ok\"\"\"\r\n"
            + "4h,P1,B10,DMSO,0,nM,0.1,D2,HbSS,\"two\r\nlines\"\r\n"
            + ",,,,,,,,,\r\n"
            + "2h,P1,c01,PMA,1e-3,nM,0.1,D2,HbSS,,\r\n"
        let map = try PlateMap.parse(text, path: "map.csv")
        XCTAssertEqual(map.columns, ["timepoint", "plate", "well", "agonist", "concentration", "unit", "vehicle_pct",
                                     "donor", "genotype", "note"])
        XCTAssertEqual(map.extraColumns, ["timepoint", "note"])
        XCTAssertEqual(map.entries.map(\.well), ["B03", "B10", "C01"])
        XCTAssertEqual(map.entries.map(\.line), [2, 3, 6])
        let first = map.entries[0]
        XCTAssertEqual(first.donor, "Smith, J.")
        XCTAssertEqual(first.extra, ["4h", "said \"ok\""])
        XCTAssertEqual(first.fields[2], "B03")    // normalised in the joined fields too
        XCTAssertEqual(map.entries[1].extra, ["4h", "two\r\nlines"])
        XCTAssertEqual(map.entries[2].concentration, 0.001)
        XCTAssertEqual(map.entry(plate: "P1", well: "C1")?.extra, ["2h", ""])
    }

    func testErrorsNameTheFileTheLineAndTheProblem() {
        let header = "plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype\n"
        func error(_ text: String) -> String {
            do { _ = try PlateMap.parse(text, path: "pm.csv"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error(header + "P1,B3,PMA,1,nM,0.1,D1,HbAA\nP1,B2,PMA,1,nM,0.1,D1,HbAA\nP1,b03,PMA,5,nM,0.1,D1,HbAA\n"),
                       "pm.csv: line 4: well B03 of plate P1 is already on line 2")
        XCTAssertEqual(error("plate,well,agonist,concentration,unit,donor\nP1,B3,PMA,1,nM,D1\n"),
                       "pm.csv: line 1: header lacks the required columns vehicle_pct, genotype "
                       + "(expected plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype, "
                       + "got plate,well,agonist,concentration,unit,donor)")
        XCTAssertEqual(error(header + "P1,B3,PMA,1,nM,0.1,D1,HbAA\nP1,B4,PMA,ten,nM,0.1,D1,HbAA\n"),
                       "pm.csv: line 3: concentration 'ten' is not a number")
        XCTAssertEqual(error(header + "P1,B4,PMA,,nM,0.1,D1,HbAA\n"),
                       "pm.csv: line 2: concentration is empty (write 0 for none)")
        XCTAssertEqual(error(header + "P1,B4,PMA,-1,nM,0.1,D1,HbAA\n"), "pm.csv: line 2: concentration -1 is negative")
        XCTAssertEqual(error(header + "P1,Q4,PMA,1,nM,0.1,D1,HbAA\n"),
                       "pm.csv: line 2: well 'Q4' is not a well name (row A–P and column 1–48, like B03)")
        XCTAssertEqual(error(header + "P1,B4,PMA,1,nM,0.1,D1\n"), "pm.csv: line 2: 7 fields, but the header has 8")
        XCTAssertEqual(error(header + "P1,B4,PMA,1,nM,0.1,\"D1,HbAA\n"), "pm.csv: line 2: a quoted field is never closed (missing \")")
        XCTAssertEqual(error(""), "pm.csv: is empty; expected the header plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype")
        XCTAssertEqual(error("Plate,plate,well\n"), "pm.csv: line 1: header names column 'plate' twice")
        XCTAssertEqual(error(header + "\n"), "pm.csv: has a header but no wells")
    }

    func testReadsAFileAndNamesAMissingOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("platemap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("platemap.csv").path
        try Data("plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype\np,A1,PMA,1,nM,0.1,d,HbAA\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try PlateMap.read(path).entries.first?.well, "A01")
        XCTAssertThrowsError(try PlateMap.read(dir.path + "/nope.csv")) {
            XCTAssertEqual("\($0)", "\(dir.path)/nope.csv: no such file")
        }
        XCTAssertThrowsError(try PlateMap.read(dir.path)) {
            XCTAssertEqual("\($0)", "\(dir.path): is a folder, not a plate-map CSV")
        }
    }
}
