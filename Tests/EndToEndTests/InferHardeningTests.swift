import Cluster
import Determinism
import Foundation
import Neural
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// Issue 8: `netosis infer` with patches holding NaN/Inf, and batch sizes beyond the memory budget.
final class InferHardeningTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("infer-hardening") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A checkpoint of densenet-tiny (32×32 patches).
    func checkpoint() throws -> String {
        let checkpoint = path("ck.h5")
        try WeightIO.save(try DenseNet(named: "densenet-tiny", seed: 11), to: checkpoint)
        return checkpoint
    }

    /// A float32 patches file from another tool (no `format` attribute).
    func patches(_ name: String, _ values: [Float], count: Int) throws -> String {
        let file = try HDF5File.create(path(name))
        try file.write("patches", values, shape: [count, 32, 32])
        try file.flush()
        return path(name)
    }

    func testNonFinitePatchesAreCountedExcludedAndRecorded() throws {
        let netosis = try productPath("netosis")
        let ck = try checkpoint()
        let n = 7, per = 32 * 32
        var generator = SplitMix64(seed: 5, skipping: 1)
        let clean = (0..<n * per).map { _ in 1000 + 300 * generator.nextNormal() }
        var dirty = clean
        dirty[2 * per + 100] = .nan
        dirty[5 * per + 3] = -.infinity
        dirty[6 * per] = .infinity
        let arguments = ["infer", "--checkpoint", ck, "--batch-size", "3"]
        let reference = try runProgram(netosis, arguments + ["--patches", try patches("clean.h5", clean, count: n),
                                                             "--out", path("clean-pred.h5")], timeout: 120)
        XCTAssertEqual(reference.status, 0, reference.output)
        XCTAssertFalse(reference.output.contains("warning"), reference.output)
        let input = try patches("dirty.h5", dirty, count: n)
        let alone = try runProgram(netosis, arguments + ["--patches", input, "--out", path("one.h5")], timeout: 120)
        XCTAssertEqual(alone.status, 0, alone.output)
        let warning = "warning: \(input): 3 of 7 patches hold non-finite values (NaN/Inf) and were not classified "
            + "(rows 2, 5, 6); /valid marks them 0 in \(path("one.h5"))"
        XCTAssertEqual(alone.output.components(separatedBy: "\n").filter { $0.contains("warning") }, [warning], alone.output)
        let parallel = try mpirun(2, netosis, arguments + ["--patches", input, "--out", path("two.h5")])
        XCTAssertEqual(parallel.status, 0, parallel.output)
        XCTAssertTrue(parallel.output.contains("3 of 7 patches hold non-finite values"), parallel.output)

        let expected = try PredictionsFile.read(path("clean-pred.h5"))
        for name in ["one.h5", "two.h5"] {
            let result = try PredictionsFile.read(path(name))
            XCTAssertEqual(result.valid, [1, 1, 0, 1, 1, 0, 0], name)
            XCTAssertEqual(try HDF5File.open(path(name)).read("valid", as: UInt8.self), [1, 1, 0, 1, 1, 0, 0])
            XCTAssertEqual(result.header.formatVersion, 2)
            for row in 0..<n {
                let logits = Array(result.logits[3 * row ..< 3 * row + 3]), probs = Array(result.probs[3 * row ..< 3 * row + 3])
                if result.valid[row] == 1 {
                    XCTAssertEqual(logits, Array(expected.logits[3 * row ..< 3 * row + 3]), "\(name) row \(row)")
                    XCTAssertEqual(probs, Array(expected.probs[3 * row ..< 3 * row + 3]), "\(name) row \(row)")
                } else {
                    XCTAssertTrue((logits + probs).allSatisfy(\.isNaN), "\(name) row \(row): \(logits) \(probs)")
                }
            }
        }
    }

    /// A batch beyond the memory this rank may use fails before allocating, with one line saying
    /// what to change (the budget is pinned with SLURM_MEM_PER_NODE, not this machine's memory).
    func testBatchBeyondTheMemoryBudgetFailsWithOneLine() throws {
        let netosis = try productPath("netosis")
        let ck = try checkpoint()
        let input = try patches("p.h5", [Float](repeating: 1, count: 2 * 32 * 32), count: 2)
        let arguments = ["infer", "--checkpoint", ck, "--patches", input, "--out", path("out.h5"), "--batch-size", "65536"]
        let slurm = ["SLURM_MEM_PER_NODE": "1024"]
        let alone = try runProgram(netosis, arguments, environment: slurm, timeout: 120)
        XCTAssertEqual(alone.status, 1, alone.output)
        let line = alone.output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(line.contains("\n"), line)
        XCTAssertTrue(line.hasPrefix("netosis: error: --batch-size 65536 needs ≈ "), line)
        XCTAssertTrue(line.contains(" per rank for densenet-tiny at 32×32; this rank may use 1.1 GB (Slurm allocation 1.1 GB): use --batch-size ≤ "), line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.h5")))

        let parallel = try mpirun(2, netosis, arguments, environment: slurm)
        XCTAssertNotEqual(parallel.status, 0, parallel.output)
        XCTAssertFalse(parallel.timedOut)
        XCTAssertTrue(parallel.output.contains("this rank may use 537 MB (Slurm allocation 1.1 GB / 2 ranks)"), parallel.output)

        let bench = try runProgram(netosis, ["bench", "--model", "densenet-tiny", "--batch-size", "4096", "--iterations", "1"],
                                   environment: ["SLURM_MEM_PER_NODE": "300"], timeout: 120)
        XCTAssertEqual(bench.status, 1, bench.output)
        XCTAssertTrue(bench.output.hasPrefix("netosis: error: --batch-size 4096 needs ≈ "), bench.output)
        XCTAssertTrue(bench.output.contains("(Slurm allocation 315 MB): use --batch-size ≤ "), bench.output)
    }

    /// In process, absurd batch sizes (beyond the command's own range) are refused, not a crash.
    func testAbsurdBatchSizeIsRefusedByTheJob() throws {
        let ck = try checkpoint()
        let input = try patches("p.h5", [Float](repeating: 1, count: 32 * 32), count: 1)
        for batch in [100_000_000, 1 << 62] {
            let options = InferOptions(checkpoint: ck, patches: input, output: path("out.h5"), batchSize: batch)
            XCTAssertThrowsError(try InferJob.run(options, log: { _ in }, warn: { _ in })) { error in
                XCTAssertTrue(error is MemoryBudgetError, "\(error)")
                XCTAssertTrue("\(error)".hasPrefix("--batch-size \(batch) needs ≈ "), "\(error)")
            }
            XCTAssertThrowsError(try BenchJob.run(BenchOptions(model: "densenet-tiny", batchSize: batch), log: { _ in })) { error in
                XCTAssertTrue(error is MemoryBudgetError, "\(error)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.h5")))
    }
}
