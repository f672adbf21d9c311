import Foundation
import Imaging
import TestSupport
import XCTest

/// Shared helpers for the segmentation/annotation tests: locating ../shared/data, loading the
/// real samples, and the two acceptance metrics (marker coverage, object F1 at IoU ≥ 0.5).
enum SegTestData {
    /// `../shared/data/<name>` via TestSupport's locator: skip on a developer machine without the
    /// data, fail loudly when env CI is set.
    static func directory(_ name: String) throws -> URL {
        guard let url = try sharedDataDirectory(name) else {
            throw XCTSkip("shared data '\(name)' not found (fails under CI)")
        }
        return url
    }

    struct AnnotatedField {
        var stem: String
        var image: GrayImage
        var annotations: AnnotationSet
    }

    /// The 27 real fields: tiff/<stem>.tif with annotations/CellCounter_<stem>.xml.
    static func netosisSample() throws -> [AnnotatedField] {
        let dir = try directory("netosis-sample")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("annotations").path)
            .filter { $0.hasPrefix("CellCounter_") && $0.hasSuffix(".xml") }.sorted()
        var fields: [AnnotatedField] = []
        for name in names {
            let stem = String(name.dropFirst("CellCounter_".count).dropLast(4))
            let image = try TIFFReader.read(dir.appendingPathComponent("tiff/\(stem).tif").path)
            let set = try CellCounterXML.read(dir.appendingPathComponent("annotations/\(name)").path)
            fields.append(AnnotatedField(stem: stem, image: image, annotations: set))
        }
        return fields
    }

    struct LabelledImage {
        var name: String
        var group: String
        var count: Int
        var image: GrayImage
        var truth: [Int32]
    }

    static func dsbSubset() throws -> [LabelledImage] {
        let dir = try directory("dsb2018-fluo-subset")
        let csv = try String(contentsOf: dir.appendingPathComponent("images.csv"), encoding: .utf8)
        var rows = csv.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
        let header = rows.removeFirst()
        guard let ni = header.firstIndex(of: "image"), let ci = header.firstIndex(of: "n_nuclei"),
              let gi = header.firstIndex(of: "size_group") else { throw SegTestError("images.csv: unexpected header \(header)") }
        return try rows.map { r in
            let image = try TIFFReader.read(dir.appendingPathComponent("images/\(r[ni]).tif").path)
            let truth = try TIFFReader.read(dir.appendingPathComponent("labels/\(r[ni]).tif").path)
            return LabelledImage(name: r[ni], group: r[gi], count: Int(r[ci])!, image: image,
                                 truth: truth.pixels.map { Int32($0) })
        }
    }
}

struct SegTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Object-level detection scores: a predicted object matches a true one when IoU ≥ 0.5
/// (such matches are necessarily one-to-one).
struct DetectionScore {
    var truth = 0
    var predicted = 0
    var matched = 0
    var precision: Double { predicted == 0 ? (truth == 0 ? 1 : 0) : Double(matched) / Double(predicted) }
    var recall: Double { truth == 0 ? 1 : Double(matched) / Double(truth) }
    var f1: Double { truth + predicted == 0 ? 1 : 2 * Double(matched) / Double(truth + predicted) }

    static func measure(predicted: [Int32], predictedCount: Int, truth: [Int32], iou threshold: Double = 0.5) -> DetectionScore {
        var truthArea: [Int32: Int] = [:], predArea: [Int32: Int] = [:], overlap: [Int64: Int] = [:]
        for i in 0..<truth.count {
            let t = truth[i], p = predicted[i]
            if t != 0 { truthArea[t, default: 0] += 1 }
            if p != 0 { predArea[p, default: 0] += 1 }
            if t != 0 && p != 0 { overlap[Int64(t) << 32 | Int64(p), default: 0] += 1 }
        }
        var s = DetectionScore(truth: truthArea.count, predicted: predictedCount, matched: 0)
        for (key, inter) in overlap {
            let t = Int32(key >> 32), p = Int32(truncatingIfNeeded: key)
            let union = truthArea[t]! + predArea[p]! - inter
            if Double(inter) / Double(union) >= threshold { s.matched += 1 }
        }
        return s
    }
}
