import Analysis
import Foundation
import Imaging
import Neural
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// The paper's pixel-level (PL) counter end to end on a synthetic plate set with known counts, on two
/// ranks at every step: `prepare --mode point` → stage 1 trained on image-normalised 32×32 patches →
/// `maps` (one sliding-window pass per image) → stage 2 trained on the maps (`train --task count`) →
/// `evaluate` of the held-out wells' counts against the truth. Small networks (the paper's are in
/// config/models/pl-stage*.yaml), the paper's method.
final class PLCounterTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("plcounter") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let stage1 = """
        architecture: sequential
        name: pl-small1
        input_size: 32
        input_normalization: image
        layers:
          - conv: {filters: 16, kernel: 3}
          - relu
          - conv: {filters: 16, kernel: 3}
          - relu
          - maxpool: 2
          - dropout: 0.25
          - conv: {filters: 32, kernel: 3}
          - relu
          - conv: {filters: 32, kernel: 3}
          - relu
          - flatten
          - dense: 32
          - relu
          - dense: 3
        """

    /// The sum-pooled stage 2 for the 256×320 maps of 256×320 fields (`maps --border reflect`).
    static let stage2 = """
        architecture: sequential
        name: pl-small2
        input_channels: 3
        input_size: 256
        input_width: 320
        layers:
          - conv: {filters: 32, kernel: 3}
          - relu
          - avgpool: 2
          - conv: {filters: 32, kernel: 3}
          - relu
          - maxpool: 2
          - globalsumpool
          - dense: 64
          - relu
          - dense: 2
        """

    func testTwoStageCounterCountsHeldOutWells() throws {
        let netosis = try productPath("netosis")
        func run(_ ranks: Int, _ arguments: [String], timeout: TimeInterval = 300, expectFailure: Bool = false) throws -> String {
            let result = ranks == 1 ? try runProgram(netosis, arguments, timeout: timeout) : try mpirun(ranks, netosis, arguments, timeout: timeout)
            if expectFailure {
                XCTAssertNotEqual(result.status, 0, "netosis \(arguments.joined(separator: " ")) should fail")
            } else {
                XCTAssertEqual(result.status, 0, "netosis \(arguments.joined(separator: " ")): \(result.output)")
            }
            return result.output
        }
        try Self.stage1.write(toFile: path("stage1.yaml"), atomically: true, encoding: .utf8)
        try Self.stage2.write(toFile: path("stage2.yaml"), atomically: true, encoding: .utf8)
        _ = try run(1, ["synth", "--out", path("synth"), "--plates", "3", "--wells", "24", "--width", "320", "--height", "256", "--seed", "3"])
        _ = try run(1, ["prepare", "--images", path("synth/images"), "--annotations", path("synth/annotations"), "--out", path("points.h5"),
                        "--mode", "point", "--patch-size", "32", "--negatives", "30", "--split-by", "well", "--seed", "1"])
        _ = try run(2, ["train", "--data", path("points.h5"), "--model", path("stage1.yaml"), "--out", path("s1"), "--epochs", "8",
                        "--batch-size", "32", "--optimizer", "adam", "--lr", "0.002", "--lr-decay", "0.002", "--patience", "0"])
        let maps = try run(2, ["maps", "--stage1", path("s1/model.h5"), "--patches", path("points.h5"), "--out", path("maps.h5"),
                               "--border", "reflect"])
        XCTAssertTrue(maps.contains("72 image(s) → "), maps)

        // The maps are what stage 1 says about each training patch, border patches included: the map's
        // pixel at the patch's centre (the image mirrored as prepare cuts patches), normalised with the
        // image's statistics in both places.
        let model = try WeightIO.loadModel(path: path("s1/model.h5"))
        let patches = try PatchDataset(path: path("points.h5"))
        let mapsFile = try MapsDataset(path: path("maps.h5"))
        let centers: [Float] = try HDF5File.open(path("points.h5")).read("center")
        let loader = BatchLoader(dataset: patches, split: nil, batchSize: 1, seed: 0, augment: false, shuffle: false,
                                 padShards: false, normalization: .image)
        var checked = 0, worst: Float = 0
        var input = [Float](repeating: 0, count: 32 * 32), labels: [Int32] = []
        var map = [Float](repeating: 0, count: mapsFile.sampleSize)
        for row in stride(from: 0, to: patches.count, by: 97) {
            let (x0, y0) = PatchExtractor.origin(centerX: Double(centers[2 * row]), centerY: Double(centers[2 * row + 1]), size: 32)
            let (x, y) = (x0 + 16, y0 + 16)
            guard x >= 0, y >= 0, x < mapsFile.width, y < mapsFile.height else { continue }
            let image = Int(patches.imageIndex[row])
            guard let mapRow = mapsFile.names.firstIndex(of: patches.imageNames[image]) else { continue }
            _ = try input.withUnsafeMutableBufferPointer { try loader.fill(rows: [row], epoch: 0, into: $0, labels: &labels) }
            let logits = Array(UnsafeBufferPointer(start: input.withUnsafeBufferPointer { model.forward($0.baseAddress!, batch: 1, height: 32, width: 32, training: false) }, count: 3))
            let top = logits.max()!, e = logits.map { expf($0 - top) }, p = e.map { $0 / e.reduce(0, +) }
            try map.withUnsafeMutableBufferPointer { try mapsFile.readMap(mapRow, into: $0) }
            for k in 0..<3 { worst = max(worst, abs(p[k] - map[(y * mapsFile.width + x) * 3 + k])) }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 10)
        XCTAssertLessThanOrEqual(worst, 1e-4, "stage-1 maps equal per-patch forwards of image-normalised patches")

        let train = try run(2, ["train", "--task", "count", "--data", path("maps.h5"), "--model", path("stage2.yaml"), "--out", path("s2"),
                                "--epochs", "150", "--batch-size", "4", "--optimizer", "adam", "--lr", "0.003", "--lr-decay", "0.001",
                                "--patience", "0"], timeout: 600)
        XCTAssertTrue(train.contains("train: pl-small2 (") && train.contains("training images' maps"), train)
        let history = try String(contentsOfFile: path("s2/history.csv"), encoding: .utf8)
        XCTAssertTrue(history.hasPrefix("epoch,train_loss,") && history.contains("val_mae_non-NETotic,val_mae_NETotic"), history)

        // Counts of the held-out wells against the generator's truth (the markers are every object).
        _ = try run(2, ["evaluate", "--checkpoint", path("s2/model.h5"), "--data", path("maps.h5"), "--split", "test",
                        "--json", path("counts.json")])
        let report = try CountReport.decode(Data(contentsOf: URL(fileURLWithPath: path("counts.json"))))
        XCTAssertGreaterThanOrEqual(report.images.count, 10)
        for name in ["non-NETotic", "NETotic"] {
            let agreement = try XCTUnwrap(report.agreement(of: name))
            print(String(format: "PL counter, %@: n %d, r %.3f, MAE %.2f, bias %+.2f", name, agreement.n, agreement.pearsonR ?? .nan,
                         agreement.meanAbsoluteError, agreement.bias))
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(agreement.pearsonR), 0.95, "\(name): per-image count r on held-out wells")
        }
        // screen --method pl gives every image the counts evaluate gave it (same two networks, same
        // maps geometry chosen from stage 2's input size), into results.h5 that `counts` reads.
        _ = try run(2, ["screen", "--method", "pl", "--checkpoint", path("s1/model.h5"), "--stage2", path("s2/model.h5"),
                        "--input", path("synth/images"), "--out", path("results.h5")])
        _ = try run(1, ["counts", "--results", path("results.h5"), "--annotations", path("synth/annotations"), "--json", path("screened.json")])
        let screened = try CountReport.decode(Data(contentsOf: URL(fileURLWithPath: path("screened.json"))))
        XCTAssertEqual(screened.images.count, 72)
        let byImage = Dictionary(uniqueKeysWithValues: screened.images.map { ($0.image, $0) })
        for row in report.images {
            let other = try XCTUnwrap(byImage[row.image], row.image)
            XCTAssertEqual(other.predicted["non-NETotic"], row.predicted["non-NETotic"], row.image)
            XCTAssertEqual(other.predicted["NETotic"], row.predicted["NETotic"], row.image)
            XCTAssertEqual(other.manual["NETotic"], row.manual["NETotic"], row.image)
        }
        let wrongSize = try run(1, ["screen", "--method", "pl", "--checkpoint", path("s1/model.h5"), "--input", path("synth/images"),
                                    "--out", path("x.h5")], expectFailure: true)
        XCTAssertTrue(wrongSize.contains("--method pl needs --stage2"), wrongSize)

        // The report compares methods given side by side: the PL counter and the ImageJ rule on the same images.
        _ = try run(1, ["prepare", "--images", path("synth/images"), "--annotations", path("synth/annotations"), "--out", path("seg.h5"),
                        "--patch-size", "32", "--split-by", "well", "--seed", "1"])
        _ = try run(1, ["calibrate-rule", "--data", path("seg.h5"), "--out", path("rule.json")])
        _ = try run(2, ["screen", "--method", "rule", "--checkpoint", path("rule.json"), "--input", path("synth/images"), "--out", path("rule.h5")])
        let reportLog = try run(1, ["report", "--results", path("results.h5"), path("rule.h5"), "--platemap", path("synth/platemap.csv"),
                                    "--annotations", path("synth/annotations"), "--out", path("report.html")])
        XCTAssertTrue(reportLog.contains("methods compared (pl, rule)"), reportLog)
        XCTAssertFalse(reportLog.contains("is in more than one results file"), "images of two methods are not duplicates")
        let html = try String(contentsOfFile: path("report.html"), encoding: .utf8)
        let section = String(html[try XCTUnwrap(html.range(of: "id=\"methods\""))!.lowerBound...])
        let plNon = try XCTUnwrap(screened.agreement(of: "non-NETotic")?.pearsonR)
        XCTAssertTrue(section.contains("<td>pl</td><td>non-NETotic</td><td class=\"n\">72</td><td class=\"n\">\(String(format: "%.3f", plNon))</td>"),
                      "the PL row carries the r of netosis counts")
        XCTAssertTrue(section.contains("<td>rule</td><td>NETotic</td><td class=\"n\">72</td>"))
        XCTAssertTrue(section.contains("pl vs rule"))

        // The counts stage 2 learnt from are the generator's truth for every well.
        let lines = try String(contentsOfFile: path("synth/truth_wells.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0]
        let (image, non, net) = (header.firstIndex(of: "image")!, header.firstIndex(of: "non_netotic")!, header.firstIndex(of: "netotic")!)
        var compared = 0
        for fields in lines.dropFirst() where fields.count == header.count {
            guard let row = mapsFile.names.firstIndex(of: fields[image]) else { continue }
            XCTAssertEqual(mapsFile.counts[2 * row], Float(fields[non]), fields[image])
            XCTAssertEqual(mapsFile.counts[2 * row + 1], Float(fields[net]), fields[image])
            compared += 1
        }
        XCTAssertEqual(compared, 72)
    }
}
