import Determinism
import Foundation
import Neural
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// `train --task count --also-train MAPS`: a second maps file (synthetic plates' maps, for the real
/// sample's few fields) joins the training images — every one of its images, none of its splits — and
/// the trained weights change with it; a file of another geometry, a patches file, and --also-train
/// on a classification run are refused in one line, as are maps whose geometry is not the model's
/// (train and evaluate alike).
final class AlsoTrainTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("alsotrain") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// n maps of h×w×3 whose counts are the sums of channels 1 and 2 (a learnable relation), splits as given.
    func writeMaps(_ name: String, splits: [UInt8], height: Int = 12, width: Int = 16, seed: UInt64) throws {
        var maps: [[Float]] = []
        var rows: [MapsFile.Row] = []
        var g = SplitMix64(seed: seed)
        for (i, split) in splits.enumerated() {
            let m = (0..<height * width * 3).map { _ in Float(g.next() % 1000) / 1000 }
            let counts = [1, 2].map { c in stride(from: c, to: m.count, by: 3).reduce(Float(0)) { $0 + m[$1] } / 10 }
            maps.append(m)
            rows.append(MapsFile.Row(name: "\(name)-\(i)", path: "/nonexistent/\(name)-\(i).tif", split: split, counts: counts))
        }
        try MapsFile.write(to: path(name), config: "{}", window: 4, border: "reflect", mapClasses: ["other", "non-NETotic", "NETotic"],
                           rows: rows, height: height, width: width, channels: 3) { maps[$0] }
    }

    func testExtraMapsJoinTrainingOnly() throws {
        let netosis = try productPath("netosis")
        try writeMaps("real.h5", splits: [0, 0, 0, 0, 1, 1, 2, 2], seed: 1)
        try writeMaps("synthetic.h5", splits: [2, 1, 0, 0, 0, 0], seed: 2)   // splits ignored: all training
        try writeMaps("wrong.h5", splits: [0, 0], width: 20, seed: 3)
        try """
            architecture: sequential
            name: tiny-count
            input_channels: 3
            input_size: 12
            input_width: 16
            layers:
              - conv: {filters: 4, kernel: 3}
              - relu
              - globalsumpool
              - dense: 2
            """.write(toFile: path("model.yaml"), atomically: true, encoding: .utf8)
        func train(_ out: String, _ extra: [String]) throws -> ProcessResult {
            try mpirun(2, netosis, ["train", "--task", "count", "--data", path("real.h5"), "--model", path("model.yaml"),
                                    "--out", path(out), "--epochs", "3", "--batch-size", "2", "--optimizer", "adam", "--lr", "0.01",
                                    "--patience", "0", "--seed", "1"] + extra, timeout: 120)
        }
        let plain = try train("plain", [])
        XCTAssertEqual(plain.status, 0, plain.output)
        XCTAssertTrue(plain.output.contains("on 4 training images' maps, 2 validation"), plain.output)
        let joined = try train("joined", ["--also-train", path("synthetic.h5")])
        XCTAssertEqual(joined.status, 0, joined.output)
        XCTAssertTrue(joined.output.contains("on 10 training images' maps (6 of them from --also-train), 2 validation"), joined.output)
        let a = try WeightIO.loadModel(path: path("plain/model.h5")), b = try WeightIO.loadModel(path: path("joined/model.h5"))
        XCTAssertNotEqual(a.parameters.flatMap(\.value), b.parameters.flatMap(\.value), "the extra maps changed nothing")

        // Two ranks and one process on two threads deal the same global batches (4: two images per
        // rank or thread) and train the same weights (no BatchNorm here: exactly the same sums).
        let countArguments = ["train", "--task", "count", "--data", path("real.h5"), "--model", path("model.yaml"),
                              "--epochs", "3", "--batch-size", "4", "--optimizer", "adam", "--lr", "0.01", "--patience", "0",
                              "--seed", "1", "--also-train", path("synthetic.h5")]
        let ranks = try mpirun(2, netosis, countArguments + ["--out", path("ranks")], timeout: 120)
        XCTAssertEqual(ranks.status, 0, ranks.output)
        let threads = try runProgram(netosis, countArguments + ["--out", path("threads")], environment: ["NETOSIS_THREADS": "2"], timeout: 120)
        XCTAssertEqual(threads.status, 0, threads.output)
        XCTAssertTrue(threads.output.contains("(each rank's share on 2 threads × 2)"), threads.output)
        let byRanks = try WeightIO.loadModel(path: path("ranks/model.h5")).stateTensors.flatMap(\.value)
        let byThreads = try WeightIO.loadModel(path: path("threads/model.h5")).stateTensors.flatMap(\.value)
        let scale = byRanks.map(abs).max()!
        XCTAssertLessThanOrEqual(zip(byRanks, byThreads).map { abs($0 - $1) }.max()! / scale, 1e-5, "2 ranks vs 2 threads")

        let wrong = try train("wrong", ["--also-train", path("wrong.h5")])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.output.contains("\(path("wrong.h5")): maps are 12×20×3"), wrong.output)
        let classification = try runProgram(netosis, ["train", "--data", path("real.h5"), "--out", path("c"), "--also-train", path("synthetic.h5")])
        XCTAssertNotEqual(classification.status, 0)
        XCTAssertTrue(classification.output.contains("also_train: adds maps to a count task's training"), classification.output)

        // Maps of another geometry than the model's: train and evaluate refuse with the same line.
        let expected = "\(path("wrong.h5")): maps are 12×20×3 with 2 counts (non-NETotic, NETotic) but model 'tiny-count' takes 12×16×3"
        let trainWrong = try runProgram(netosis, ["train", "--task", "count", "--data", path("wrong.h5"), "--model", path("model.yaml"),
                                                  "--out", path("w"), "--batch-size", "2"])
        XCTAssertNotEqual(trainWrong.status, 0)
        XCTAssertTrue(trainWrong.output.contains(expected), trainWrong.output)
        let evaluateWrong = try runProgram(netosis, ["evaluate", "--checkpoint", path("plain/model.h5"), "--data", path("wrong.h5"),
                                                     "--split", "all"])
        XCTAssertNotEqual(evaluateWrong.status, 0)
        XCTAssertTrue(evaluateWrong.output.contains(expected), evaluateWrong.output)
    }
}
