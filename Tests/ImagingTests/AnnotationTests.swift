import Foundation
import Imaging
import XCTest

/// Cell Counter XML, points CSV and the marker type → class map.
final class AnnotationTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("annot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }

    func testCellCounterWithCRLFUnknownElementsEmptyTypes() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <CellCounter_Marker_File>
         <Image_Properties>
             <Image_Filename>plate1_b3.2_1.tif</Image_Filename>
             <Scale>0.5</Scale>
         </Image_Properties>
         <Marker_Data>
             <Current_Type>1</Current_Type>
             <Marker_Type>
                 <Type>1</Type>
                 <Name>non-NETotic</Name>
                 <Marker>
                     <MarkerX>644</MarkerX>
                     <MarkerY>26</MarkerY>
                     <MarkerZ>1</MarkerZ>
                     <Comment>lobed</Comment>
                 </Marker>
                 <Marker>
                     <MarkerX> 12.5 </MarkerX>
                     <MarkerY>7</MarkerY>
                     <MarkerZ>1</MarkerZ>
                 </Marker>
             </Marker_Type>
             <Marker_Type>
                 <Type>2</Type>
             </Marker_Type>
             <Marker_Type>
                 <Type>3</Type>
             </Marker_Type>
             <Marker_Type>
                 <Type>5</Type>
                 <Marker><MarkerX>3</MarkerX><MarkerY>500</MarkerY><MarkerZ>1</MarkerZ></Marker>
             </Marker_Type>
             <Extra><Nested>ignored</Nested></Extra>
         </Marker_Data>
        </CellCounter_Marker_File>
        """.replacingOccurrences(of: "\n", with: "\r\n")
        let set = try CellCounterXML.read(try write("CellCounter_b3.xml", xml))
        XCTAssertEqual(set.imageName, "plate1_b3.2_1.tif")
        XCTAssertEqual(set.markers, [Marker(x: 644, y: 26, type: 1), Marker(x: 12.5, y: 7, type: 1), Marker(x: 3, y: 500, type: 5)])
        XCTAssertTrue(set.sourcePath.hasSuffix("CellCounter_b3.xml"))
    }

    func testZeroMarkersAndNoImageName() throws {
        let xml = "<CellCounter_Marker_File><Marker_Data><Current_Type>0</Current_Type>"
            + "<Marker_Type><Type>1</Type></Marker_Type></Marker_Data></CellCounter_Marker_File>"
        let set = try CellCounterXML.read(try write("empty.xml", xml))
        XCTAssertEqual(set.markers, [])
        XCTAssertNil(set.imageName)
    }

    func testTypeAfterMarkersStillApplies() throws {
        let xml = "<CellCounter_Marker_File><Marker_Data><Marker_Type>"
            + "<Marker><MarkerX>1</MarkerX><MarkerY>2</MarkerY></Marker><Type>4</Type>"
            + "</Marker_Type></Marker_Data></CellCounter_Marker_File>"
        XCTAssertEqual(try CellCounterXML.read(try write("late.xml", xml)).markers, [Marker(x: 1, y: 2, type: 4)])
    }

    func testBadCellCounterFilesNameFileAndProblem() throws {
        let notNumber = try write("bad-x.xml", "<CellCounter_Marker_File>\n<Marker_Data>\n<Marker_Type><Type>1</Type>\n"
            + "<Marker><MarkerX>abc</MarkerX><MarkerY>2</MarkerY></Marker></Marker_Type></Marker_Data></CellCounter_Marker_File>")
        let m1 = message { try CellCounterXML.read(notNumber) }
        XCTAssertTrue(m1.hasPrefix(notNumber + ": line 4"), m1)
        XCTAssertTrue(m1.contains("MarkerX 'abc' is not a number"), m1)

        let truncated = try write("truncated.xml", "<CellCounter_Marker_File><Marker_Data><Marker_Type><Type>1</Type>")
        let m2 = message { try CellCounterXML.read(truncated) }
        XCTAssertTrue(m2.hasPrefix(truncated + ": line"), m2)
        XCTAssertTrue(m2.contains("not well-formed XML") || m2.contains("truncated"), m2)

        let missingY = try write("no-y.xml", "<CellCounter_Marker_File><Marker_Data><Marker_Type><Type>1</Type>"
            + "<Marker><MarkerX>4</MarkerX></Marker></Marker_Type></Marker_Data></CellCounter_Marker_File>")
        XCTAssertTrue(message { try CellCounterXML.read(missingY) }.contains("Marker without MarkerY"))

        let noType = try write("no-type.xml", "<CellCounter_Marker_File><Marker_Data><Marker_Type>"
            + "<Marker><MarkerX>4</MarkerX><MarkerY>4</MarkerY></Marker></Marker_Type></Marker_Data></CellCounter_Marker_File>")
        XCTAssertTrue(message { try CellCounterXML.read(noType) }.contains("has markers but no Type number"))

        let other = try write("other.xml", "<html><body>hello</body></html>")
        XCTAssertTrue(message { try CellCounterXML.read(other) }.contains("not a Cell Counter marker file"))

        let empty = try write("empty-file.xml", "")
        XCTAssertEqual(message { try CellCounterXML.read(empty) }, "\(empty): is empty, expected Cell Counter XML")

        let missing = directory.appendingPathComponent("nope.xml").path
        XCTAssertEqual(message { try CellCounterXML.read(missing) }, "\(missing): no such file")
        XCTAssertTrue(message { try CellCounterXML.read(self.directory.path) }.contains("is a directory"))
    }

    /// Every real annotation file parses and its per-type counts match MANIFEST.tsv.
    func testRealSampleAnnotationsMatchManifest() throws {
        let dir = try SegTestData.directory("netosis-sample")
        let manifest = try String(contentsOf: dir.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
        var checked = 0
        for line in manifest.split(whereSeparator: \.isNewline) where line.hasPrefix("annotations/") {
            let cols = line.split(separator: "\t")
            let set = try CellCounterXML.read(dir.appendingPathComponent(String(cols[0])).path)
            let info = cols[3].split(separator: " ")
            XCTAssertEqual(set.imageName, String(info[0].dropFirst("refers_to=".count)))
            for t in 1...5 {
                let expected = Int(info[t].split(separator: "=")[1])!
                XCTAssertEqual(set.markers.filter { $0.type == t }.count, expected, "\(cols[0]) type \(t)")
            }
            XCTAssertTrue(set.markers.allSatisfy { $0.x >= 0 && $0.x < 672 && $0.y >= 0 && $0.y < 512 }, "\(cols[0])")
            checked += 1
        }
        XCTAssertEqual(checked, 27)
    }

    func testPointsCSVWithHeaderWithoutHeaderAndErrors() throws {
        let a = try PointsCSV.read(try write("a.csv", "# exported\r\ntype,x,y,image,note\r\n2,10.5,20,well.tif,x\r\n\r\n1,3,4,,\r\n"))
        XCTAssertEqual(a.markers, [Marker(x: 10.5, y: 20, type: 2), Marker(x: 3, y: 4, type: 1)])
        XCTAssertEqual(a.imageName, "well.tif")
        let b = try PointsCSV.read(try write("b.csv", "5,6,1\n7,8,4\n"))
        XCTAssertEqual(b.markers, [Marker(x: 5, y: 6, type: 1), Marker(x: 7, y: 8, type: 4)])
        XCTAssertNil(b.imageName)
        XCTAssertEqual(try PointsCSV.read(try write("c.csv", "x,y,type\n")).markers, [])

        let bad = try write("bad.csv", "x,y,type\n1,2,1\n1,two,1\n")
        XCTAssertEqual(message { try PointsCSV.read(bad) }, "\(bad): line 3: x '1' or y 'two' is not a number")
        let badType = try write("badtype.csv", "x,y,type\n1,2,NET\n")
        XCTAssertEqual(message { try PointsCSV.read(badType) }, "\(badType): line 2: type 'NET' is not an integer")
        let short = try write("short.csv", "1,2\n")
        XCTAssertTrue(message { try PointsCSV.read(short) }.hasPrefix("\(short): line 1: expected at least 3 fields"))
        let header = try write("header.csv", "col,row,kind\n1,2,3\n")
        XCTAssertTrue(message { try PointsCSV.read(header) }.contains("header must name columns x, y and type"))
    }

    func testClassMapDefaultsAndYAML() throws {
        let s = ClassMap.standard
        XCTAssertEqual(s.nucleusClass(forType: 1), .nonNETotic)
        XCTAssertEqual(s.nucleusClass(forType: 2), .netotic)
        for t in [3, 4, 5] { XCTAssertEqual(s.nucleusClass(forType: t), .other) }
        XCTAssertNil(s.nucleusClass(forType: 6))
        XCTAssertNil(s.nucleusClass(forType: 0))

        let custom = try ClassMap.load(try write("map.yaml", "types:\n  1: NETotic\n  2: 1\n  3: ignore\n  7: other\n"))
        XCTAssertEqual(custom.nucleusClass(forType: 1), .netotic)
        XCTAssertEqual(custom.nucleusClass(forType: 2), .nonNETotic)
        XCTAssertNil(custom.nucleusClass(forType: 3))
        XCTAssertEqual(custom.nucleusClass(forType: 7), .other)

        let bad = try write("bad.yaml", "types:\n  1: apoptotic\n")
        let m = message { try ClassMap.load(bad) }
        XCTAssertTrue(m.hasPrefix(bad + ": "), m)
        XCTAssertEqual(m, bad + ": line 2, column 3: types.1: 'apoptotic' is not one of other, non-NETotic, NETotic, ignore, 0, 1, 2")

        // The shipped config/annotations.yaml is the default map.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        XCTAssertEqual(try ClassMap.load(repo.appendingPathComponent("config/annotations.yaml").path), .standard)
    }
}
