import Foundation
import Neural
import Pipeline
import TestSupport
import XCTest

/// Pre-emption on the real Slurm of `make test`: a 2-task training job gets USR1 through Slurm
/// (`scancel --signal=USR1 --batch`, as before a time limit) mid-run, checkpoints, exits 75,
/// requeues itself (slurm/run.sbatch) and completes on the next run with the final weights of
/// an uninterrupted run.
final class SlurmPreemptionTests: XCTestCase {
    func testATrainingJobSignalledBySlurmRequeuesAndEndsLikeAnUninterruptedRun() throws {
        guard let conf = try localSlurmConfiguration() else { throw XCTSkip("no local Slurm (run via `make test`)") }
        let sbatch = try XCTUnwrap(which("sbatch")), scancel = try XCTUnwrap(which("scancel"))
        let scontrol = try XCTUnwrap(which("scontrol"))
        let directory = try makeTemporaryDirectory("slurm-preempt")
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let netosis = try productPath("netosis")
        let data = path("patches.h5")
        try TrainInputs.patches(data)
        let config = path("run.yaml")
        try "model: densenet-tiny\nepochs: 8\nbatch_size: 16\nlr: 0.05\nseed: 7\npatience: 0\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        // The uninterrupted reference, on 2 ranks.
        let straight = path("straight")
        let reference = try mpirun(2, netosis, ["train", "--config", config, "--data", data, "--out", straight], timeout: 300)
        XCTAssertEqual(reference.status, 0, reference.output)

        let out = path("job"), log = path("job.out"), job = path("train.job")
        try "step train --config \(config) --data \(data) --out \(out)\n".write(toFile: job, atomically: true, encoding: .utf8)
        let environment = ["SLURM_CONF": conf, "NETOSIS": netosis]
        let submit = try runProgram(sbatch, ["--parsable", "--ntasks=2", "--output=\(log)",
                                             repositoryRoot().appendingPathComponent("slurm/run.sbatch").path, job],
                                    environment: environment, directory: directory.path)
        XCTAssertEqual(submit.status, 0, submit.output)
        let jobID = submit.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        func text() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        func state() throws -> String {
            let show = try runProgram(scontrol, ["show", "job", jobID], environment: environment)
            return show.output.components(separatedBy: "JobState=").dropFirst().first?.split(separator: " ").first.map(String.init) ?? "GONE"
        }
        // Signal once training has started (after its first epoch line).
        let deadline = Date().addingTimeInterval(120)
        while !text().contains("epoch 1/8") && Date() < deadline { usleep(100_000) }
        XCTAssertTrue(text().contains("epoch 1/8"), text())
        XCTAssertEqual(try runProgram(scancel, ["--signal=USR1", "--batch", jobID], environment: environment).status, 0)
        // Requeued (after Slurm's requeue delay), then completed.
        let end = Date().addingTimeInterval(420)
        while try !["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "GONE"].contains(state()) && Date() < end { sleep(2) }
        let final = text()
        XCTAssertEqual(try state(), "COMPLETED", final)
        XCTAssertTrue(final.contains("stopping with status 75"), final)
        XCTAssertTrue(final.contains("requeueing job \(jobID)"), final)
        XCTAssertTrue(final.contains("(run 2)"), final)
        XCTAssertTrue(final.contains("train: resuming from \(out)/ckpt-"), final)
        let last = "/ckpt-120.h5"   // 8 epochs × 15 steps
        XCTAssertEqual(try WeightIO.loadModel(path: out + last).stateTensors.flatMap(\.value),
                       try WeightIO.loadModel(path: straight + last).stateTensors.flatMap(\.value),
                       "the requeued job ends with other weights than the uninterrupted run")
    }
}
