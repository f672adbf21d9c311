import Foundation
import Imaging
import Storage
import XCTest

/// What `netosis segment` relies on: finding images, pairing annotations, per-image failure records,
/// the object tables, and the YAML configuration — including every kind of bad input.
final class SegmentationBatchTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("segbatch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }

    /// A 16-bit field with nuclei at known places.
    func field(_ centres: [(Double, Double)], width: Int = 200, height: Int = 150) -> GrayImage {
        var img = GrayImage(width: width, height: height, bitDepth: 16, fill: 300)
        for (cx, cy) in centres {
            for y in 0..<height { for x in 0..<width where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= 64 {
                img[x, y] = 3000
            } }
        }
        return img
    }

    func testObjectTablesCSVAndHDF5() throws {
        let img = field([(40, 40), (120, 50)])
        let seg = Segmenter().segment(img)
        XCTAssertEqual(seg.nuclei.count, 2)
        let records = [
            SegmentedImage(path: "plate 1/a,1.tif", status: "ok", error: "", width: 200, height: 150, seconds: 0.01, nuclei: seg.nuclei),
            .failed("b.tif", "b.tif: TIFF is 12-bit; expected 8- or 16-bit greyscale"),
        ]
        try ObjectTable.writeCSV(records, to: path("objects.csv"))
        let csv = try String(contentsOfFile: path("objects.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(String(csv[0]), ObjectTable.objectColumns.joined(separator: ","))
        XCTAssertEqual(csv.count, 3)
        XCTAssertTrue(csv[1].hasPrefix("\"plate 1/a,1.tif\",1,40,40,"), String(csv[1]))
        let summary = try String(contentsOfFile: path("objects.images.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(summary.count, 3)
        XCTAssertTrue(summary[2].hasPrefix("b.tif,failed,b.tif: TIFF is 12-bit; expected 8- or 16-bit greyscale,0,0,0,"), String(summary[2]))
        XCTAssertEqual(summary[0].split(separator: ",").count, ObjectTable.imageColumns.count)

        try ObjectTable.writeHDF5(records, to: path("objects.h5"), configJSON: SegmentationConfig.standard.json())
        let file = try HDF5File.open(path("objects.h5"))
        XCTAssertEqual(try file.stringAttribute("format"), "netosis.segmentation")
        XCTAssertEqual(try file.group("images").dataset("status").readStrings(), ["ok", "failed"])
        XCTAssertEqual(try file.group("images").read("object_count", as: Int32.self), [2, 0])
        XCTAssertEqual(try file.group("images").read("cpu_seconds", as: Double.self).count, 2)
        XCTAssertEqual(try file.group("objects").read("image_index", as: Int32.self), [0, 0])
        XCTAssertEqual(try file.group("objects").read("area", as: Int32.self), seg.nuclei.map { Int32($0.area) })
        XCTAssertEqual(try file.group("objects").dataset("bbox").shape(), [2, 4])
        let config = try file.stringAttribute("config")
        XCTAssertTrue(config.contains("\"label_radius\""), config)
    }

    func testConfigYAMLPartialUnknownAndInvalid() throws {
        let partial = try SegmentationConfig.parse(yaml: "threshold: triangle\nwatershed: false\n", source: "p.yaml")
        var expected = SegmentationConfig.standard
        expected.threshold = .triangle; expected.watershed = false
        XCTAssertEqual(partial, expected)
        XCTAssertEqual(try SegmentationConfig.parse(yaml: "", source: "e.yaml"), .standard)
        // Round trip through the encoder.
        XCTAssertEqual(try SegmentationConfig.parse(yaml: SegmentationConfig.standard.yaml(), source: "rt"), .standard)

        let unknown = message { try SegmentationConfig.parse(yaml: "treshold: otsu\n", source: "u.yaml") }
        XCTAssertTrue(unknown.hasPrefix("u.yaml: "), unknown)
        XCTAssertTrue(unknown.contains("line 1, column 1: treshold: unknown key (known: background,"), unknown)
        let badEnum = message { try SegmentationConfig.parse(yaml: "threshold: kmeans\n", source: "b.yaml") }
        XCTAssertEqual(badEnum, "b.yaml: line 1, column 1: threshold: 'kmeans' is not one of otsu, isodata, triangle")
        let badRange = message { try SegmentationConfig.parse(yaml: "hysteresis_low: 1.5\n", source: "r.yaml") }
        XCTAssertEqual(badRange, "r.yaml: line 1, column 1: hysteresis_low: must be in (0, 1] (got 1.5)")
        let badType = message { try SegmentationConfig.parse(yaml: "opening_radius: big\n", source: "t.yaml") }
        XCTAssertEqual(badType, "t.yaml: line 1, column 1: opening_radius: expected a whole number, found 'big'")
        let missing = message { try SegmentationConfig.load(self.path("none.yaml")) }
        XCTAssertEqual(missing, path("none.yaml") + ": no such file")
    }

    /// Each threshold method finds the same well-separated nuclei; the selection is honoured.
    func testThresholdMethodsAreSelectable() {
        let img = field([(40, 40), (120, 50), (80, 110), (160, 110)])
        for method in SegmentationConfig.ThresholdMethod.allCases {
            var c = SegmentationConfig.standard
            c.threshold = method
            XCTAssertEqual(Segmenter(config: c).segment(img).nuclei.count, 4, "\(method)")
        }
    }
}
