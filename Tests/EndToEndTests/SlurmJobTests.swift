import Foundation
import TestSupport
import XCTest

/// slurm/run.sbatch on the single-node Slurm of `make test`: a job file with several steps runs
/// them in order on every task, and leaves no step record behind when it completes.
final class SlurmJobTests: XCTestCase {
    func testAMultiStepJobRunsItsStepsInOrder() throws {
        guard let conf = try localSlurmConfiguration() else { throw XCTSkip("no local Slurm (run via `make test`)") }
        let sbatch = try XCTUnwrap(which("sbatch"), "sbatch not installed")
        let directory = try makeTemporaryDirectory("sbatch-steps")
        defer { try? FileManager.default.removeItem(at: directory) }
        let set = directory.appendingPathComponent("set").path, table = directory.appendingPathComponent("objects.csv").path
        let job = directory.appendingPathComponent("two.job").path
        try Data("""
        # synth a small plate, then segment it: two steps, in order, on every task
        step synth --out \(set) --plates 1 --wells 2 --width 336 --height 256
        step segment --input \(set)/images --out \(table)
        """.utf8).write(to: URL(fileURLWithPath: job))
        let output = directory.appendingPathComponent("job.out").path
        let template = repositoryRoot().appendingPathComponent("slurm/run.sbatch").path
        let result = try runProgram(sbatch, ["--wait", "--ntasks=2", "--output=\(output)", template, job],
                                    environment: ["SLURM_CONF": conf, "NETOSIS": try productPath("netosis")],
                                    timeout: 240, directory: directory.path)
        let log = (try? String(contentsOfFile: output, encoding: .utf8)) ?? "(no job output)"
        XCTAssertEqual(result.status, 0, "\(result.output)\n\(log)")
        let first = try XCTUnwrap(log.range(of: "step 1/2: synth"), log)
        let second = try XCTUnwrap(log.range(of: "step 2/2: segment"), log)
        XCTAssertLessThan(first.lowerBound, second.lowerBound)
        XCTAssertTrue(log.contains("segment: 2/2 images"), log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: table))
        let records = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".netosis-job-") }
        XCTAssertEqual(records, [], "the step record of a completed job is removed")
        // A job file that mixes the two forms is refused before anything runs.
        try Data("VERB=doctor\nstep doctor\n".utf8).write(to: URL(fileURLWithPath: job))
        let mixed = try runProgram(sbatch, ["--wait", "--ntasks=1", "--output=\(output)", template, job],
                                   environment: ["SLURM_CONF": conf, "NETOSIS": try productPath("netosis")],
                                   timeout: 120, directory: directory.path)
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertTrue(((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("sets both VERB and step lines"))
    }
}
