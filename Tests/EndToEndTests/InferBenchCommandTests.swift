import Determinism
import Foundation
import Imaging
import Neural
import Pipeline
import Storage
import TestSupport
import XCTest

/// `netosis infer` and `netosis bench` as users run them: alone and under `mpirun -np 2`.
final class InferBenchCommandTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("infer-bench") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The same logits for 1 and 2 ranks and for 1 and 3 threads, equal to the model run in this
    /// process (7 patches: the two ranks get unequal shares, and the batch size 3 leaves a partial
    /// batch on each).
    func testInferAloneAndOnTwoRanksMatchesTheModel() throws {
        let netosis = try productPath("netosis")
        let checkpoint = path("ck.h5")
        let model = try SmallInputs.checkpoint(checkpoint)
        let n = 7, s = model.config.inputSize
        let patches = path("patches.h5")
        try SmallInputs.patches(patches, count: n, size: s)
        let expected = try PatchClassifier(model: model, batchSize: 64).logits(file: HDF5File.open(patches), path: patches, range: 0..<n)

        let arguments = ["infer", "--checkpoint", checkpoint, "--patches", patches, "--batch-size", "3"]
        let alone = try runProgram(netosis, arguments + ["--out", path("one.h5")], timeout: 120)
        XCTAssertEqual(alone.status, 0, alone.output)
        XCTAssertTrue(alone.output.contains("infer: 7 patches → \(path("one.h5")) (/logits, /probs [7, 3])"), alone.output)
        let parallel = try mpirun(2, netosis, arguments + ["--out", path("two.h5")])
        XCTAssertEqual(parallel.status, 0, parallel.output)

        // One process with 1 or 3 threads (model replicas, each on its own batches): the same logits.
        for threads in ["1", "3"] {
            let run = try runProgram(netosis, arguments + ["--out", path("t\(threads).h5")], environment: ["NETOSIS_THREADS": threads], timeout: 120)
            XCTAssertEqual(run.status, 0, run.output)
        }

        let one = try PredictionsFile.read(path("one.h5")), two = try PredictionsFile.read(path("two.h5"))
        XCTAssertEqual(try PredictionsFile.read(path("t1.h5")).logits, one.logits, "1 thread")
        XCTAssertEqual(try PredictionsFile.read(path("t3.h5")).logits, one.logits, "3 threads")
        XCTAssertEqual(one.count, n)
        XCTAssertEqual(one.classes, 3)
        XCTAssertEqual(one.logits, two.logits, "1 and 2 ranks disagree")
        for i in 0..<n * 3 { XCTAssertEqual(one.logits[i], expected[i], accuracy: 1e-5) }
        for i in 0..<n { XCTAssertEqual(one.probs[3 * i ..< 3 * i + 3].reduce(0, +), 1, accuracy: 1e-5) }
        XCTAssertEqual(one.header.toolVersion, ToolVersion.string)
        let config = try JSONDecoder().decode(PredictionsFile.RunConfig.self, from: Data(one.header.config.utf8))
        XCTAssertEqual(config.batchSize, 3)
        XCTAssertEqual(config.model, model.modelConfig)

        // Usage errors exit 64 with the usage; runtime errors exit 1 with one line.
        let zero = try runProgram(netosis, arguments + ["--out", path("x.h5"), "--batch-size", "0"])
        XCTAssertEqual(zero.status, 64, zero.output)
        XCTAssertTrue(zero.output.contains("--batch-size must be 1…65536 (got 0)"), zero.output)
        let badMode = try runProgram(netosis, arguments + ["--out", path("x.h5"), "--normalize", "minmax"])
        XCTAssertEqual(badMode.status, 64, badMode.output)
        XCTAssertTrue(badMode.output.contains("zscore"), badMode.output)
        let missing = try runProgram(netosis, ["infer", "--checkpoint", path("nope.h5"), "--patches", patches, "--out", path("x.h5")])
        XCTAssertEqual(missing.status, 1, missing.output)
        XCTAssertEqual(missing.output.trimmingCharacters(in: .whitespacesAndNewlines), "netosis: error: \(path("nope.h5")): no such file")
    }

    /// bench reports a positive throughput for both modes, per job (ranks and batch summed over ranks).
    func testBenchAloneAndOnTwoRanks() throws {
        let netosis = try productPath("netosis")
        let arguments = ["bench", "--model", "densenet-tiny", "--batch-size", "4", "--iterations", "2", "--warmup", "1"]
        for ranks in [1, 2] {
            let json = path("bench-\(ranks).json")
            let run = ranks == 1 ? try runProgram(netosis, arguments + ["--json", json], timeout: 120)
                                 : try mpirun(2, netosis, arguments + ["--json", json])
            XCTAssertEqual(run.status, 0, run.output)
            let report = try JSONDecoder().decode(BenchmarkResult.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
            XCTAssertEqual(report.ranks, ranks)
            XCTAssertEqual(report.batch, 4)
            XCTAssertEqual(report.model, "densenet-tiny")
            XCTAssertGreaterThan(report.trainImagesPerSecond ?? 0, 0)
            XCTAssertGreaterThan(report.inferImagesPerSecond ?? 0, 0)
            XCTAssertEqual(report.trainSecondsPerIteration.count, 2)
            XCTAssertGreaterThan(report.trainPeakRSSMB ?? 0, 0)
            XCTAssertGreaterThan(report.gflopPerTrainImage, report.gflopPerInferImage)  // backward costs more than forward
        }
        let odd = try mpirun(2, netosis, ["bench", "--model", "densenet-tiny", "--batch-size", "3", "--iterations", "1"])
        XCTAssertEqual(odd.status, 1, odd.output)
        XCTAssertTrue(odd.output.contains("--batch-size 3 does not split over 2 ranks"), odd.output)
    }
}
