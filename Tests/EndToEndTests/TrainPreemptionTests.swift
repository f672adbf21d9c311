import Foundation
import Neural
import Pipeline
import TestSupport
import XCTest

/// SIGUSR1 on one rank mid-epoch (test-only NETOSIS_FAULT hook sends it at a fixed step): the ranks
/// agree at the next step, write one checkpoint and stop with status 75; `--resume auto` then ends
/// with the weights of an uninterrupted run.
final class TrainPreemptionTests: XCTestCase {
    var directory: URL!
    var netosis = ""
    var data = ""
    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("preempt")
        netosis = try productPath("netosis")
        data = path("patches.h5")
        try TrainInputs.patches(data)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A densenet-tiny run configuration: 2 epochs of 15 steps (global batch 16).
    func config(_ extra: String = "") throws -> String {
        let config = path("run.yaml")
        try ("model: densenet-tiny\nepochs: 2\nbatch_size: 16\nlr: 0.05\nseed: 7\npatience: 0\n" + extra)
            .write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    func train(ranks: Int, config: String, out: String, fault: String? = nil, timeout: TimeInterval = 300) throws -> ProcessResult {
        let arguments = ["train", "--config", config, "--data", data, "--out", out]
        let environment = fault.map { ["NETOSIS_FAULT": $0] } ?? [:]
        return ranks == 1 ? try runProgram(netosis, arguments, environment: environment, timeout: timeout)
                          : try mpirun(ranks, netosis, arguments, timeout: timeout, environment: environment)
    }

    func weights(_ checkpoint: String) throws -> [Float] { try WeightIO.loadModel(path: checkpoint).stateTensors.flatMap(\.value) }

    /// SIGKILL of one rank mid-epoch (a node dies): the job ends within seconds instead of hanging
    /// in a collective, and `--resume auto` continues from the last checkpoint to the weights of an
    /// uninterrupted run.
    func testAKilledRankEndsTheJobQuicklyAndTheRunResumes() throws {
        let config = try config("checkpoint_every: 4\n")
        let straight = path("straight"), killed = path("killed")
        XCTAssertEqual(try train(ranks: 2, config: config, out: straight, timeout: 120).status, 0)
        // Rank 1 dies during step 22 (epoch 2, batch 7); the last checkpoint is ckpt-20.
        let died = try train(ranks: 2, config: config, out: killed, fault: "train-kill-rank1:22:hit", timeout: 120)
        XCTAssertFalse(died.timedOut, "the job hung after a rank died: \(died.output)")
        XCTAssertNotEqual(died.status, 0, died.output)
        XCTAssertLessThan(died.seconds, 60, died.output)
        let resumed = try train(ranks: 2, config: config, out: killed, timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resuming from \(killed)/ckpt-20.h5"), resumed.output)
        XCTAssertEqual(try weights(killed + "/ckpt-30.h5"), try weights(straight + "/ckpt-30.h5"))
    }

    func testASignalCheckpointsStopsWith75AndTheResumedRunMatches() throws {
        let config = try config()
        for ranks in [1, 2] {
            let straight = path("straight-\(ranks)"), stopped = path("stopped-\(ranks)")
            XCTAssertEqual(try train(ranks: ranks, config: config, out: straight).status, 0)
            // 15 steps per epoch: the signal arrives on the last rank during step 20 (epoch 2, batch 5).
            let interrupted = try train(ranks: ranks, config: config, out: stopped, fault: "train-usr1-rank\(ranks - 1):20:hit")
            XCTAssertEqual(interrupted.status, 75, interrupted.output)
            XCTAssertTrue(interrupted.output.contains("train: SIGUSR1 at step 20 (epoch 2, batch 5 of 15); saved \(stopped)/ckpt-20.h5"),
                          interrupted.output)
            let resumed = try train(ranks: ranks, config: config, out: stopped)
            XCTAssertEqual(resumed.status, 0, resumed.output)
            XCTAssertTrue(resumed.output.contains("resuming from \(stopped)/ckpt-20.h5"), resumed.output)
            XCTAssertEqual(try weights(stopped + "/ckpt-30.h5"), try weights(straight + "/ckpt-30.h5"),
                           "\(ranks) rank(s): the resumed run differs from the uninterrupted one")
        }
    }
}
