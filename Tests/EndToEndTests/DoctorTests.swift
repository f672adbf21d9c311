import Foundation
import TestSupport
import XCTest

/// `netosis doctor` as users run it: alone, under mpirun, and inside a real Slurm job.
final class DoctorTests: XCTestCase {
    struct Report: Decodable {
        struct Rank: Decodable {
            var rank: Int, size: Int, host: String, openblasCore: String, openblasThreads: Int, sgemmGFLOPS: Double
            var checks: [Check]
        }
        struct Check: Decodable { var name: String, ok: Bool }
        var ok: Bool, mpiLibrary: String, hdf5Version: String, tiffVersion: String
        var slurm: [String: String]
        var ranks: [Rank]
    }

    func decode(_ output: String) throws -> Report {
        // The JSON document is everything from the first "{" (launchers may print banners first).
        let start = try XCTUnwrap(output.firstIndex(of: "{"), output)
        let end = try XCTUnwrap(output.lastIndex(of: "}"), output)
        return try JSONDecoder().decode(Report.self, from: Data(output[start...end].utf8))
    }

    func assertHealthy(_ report: Report, ranks: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(report.ok, file: file, line: line)
        XCTAssertEqual(report.ranks.map(\.rank), Array(0..<ranks), file: file, line: line)
        XCTAssertTrue(report.ranks.allSatisfy { $0.size == ranks }, file: file, line: line)
        for rank in report.ranks {
            XCTAssertEqual(Set(rank.checks.map(\.name)), ["mpi", "hdf5", "libtiff", "openblas"], file: file, line: line)
            XCTAssertTrue(rank.checks.allSatisfy(\.ok), file: file, line: line)
            XCTAssertGreaterThan(rank.sgemmGFLOPS, 1, "a measured sgemm rate", file: file, line: line)
            XCTAssertFalse(rank.openblasCore.isEmpty, file: file, line: line)
        }
        XCTAssertTrue(report.mpiLibrary.hasPrefix("Open MPI v"), file: file, line: line)
        XCTAssertTrue(report.hdf5Version.hasPrefix("1."), file: file, line: line)
        XCTAssertTrue(report.tiffVersion.contains("LIBTIFF"), file: file, line: line)
    }

    func testDoctorAlone() throws {
        let result = try runProgram(try productPath("netosis"), ["doctor"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("rank 0/1 host="), result.output)
        XCTAssertTrue(result.output.contains("doctor: all checks passed on 1 rank(s)"), result.output)
        XCTAssertTrue(result.output.contains("kernels:"), result.output)
    }

    func testDoctorUnderMpirunTwoRanks() throws {
        let result = try mpirun(2, try productPath("netosis"), ["doctor", "--json"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.output)
        assertHealthy(try decode(result.output), ranks: 2)
    }

    /// The kernel rule: with AVX-512 netosis re-executes itself with SkylakeX kernels even though
    /// the environment says Haswell; NETOSIS_OPENBLAS_CORETYPE overrides the rule.
    func testOpenBLASKernelRuleIsAppliedAndReported() throws {
        let netosis = try productPath("netosis")
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { cpuinfo.contains(" \($0)") }
        let inherited = try runProgram(netosis, ["doctor", "--json"], environment: ["OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(inherited.status, 0, inherited.output)
        let core = try decode(inherited.output).ranks[0].openblasCore
        XCTAssertEqual(core, avx512 ? "SkylakeX" : "Haswell")
        let forced = try runProgram(netosis, ["doctor", "--json"],
                                    environment: ["OPENBLAS_CORETYPE": "SkylakeX", "NETOSIS_OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(try decode(forced.output).ranks[0].openblasCore, "Haswell")
    }

    /// A real `sbatch --wait` of a 2-task job running `srun --mpi=pmix netosis doctor` (jobs/doctor.job).
    func testSbatchTwoTaskJobRunsDoctorOnBothRanks() throws {
        guard let conf = try localSlurmConfiguration() else { throw XCTSkip("no local Slurm (run via `make test`)") }
        let sbatch = try XCTUnwrap(which("sbatch"), "sbatch not installed")
        let directory = try makeTemporaryDirectory("sbatch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("job.out").path
        let template = repositoryRoot().appendingPathComponent("slurm/run.sbatch").path
        let job = repositoryRoot().appendingPathComponent("jobs/doctor.job").path
        let result = try runProgram(sbatch, ["--wait", "--ntasks=2", "--output=\(output)", template, job],
                                    environment: ["SLURM_CONF": conf, "NETOSIS": try productPath("netosis")],
                                    timeout: 240, directory: directory.path)
        let log = (try? String(contentsOfFile: output, encoding: .utf8)) ?? "(no job output)"
        XCTAssertFalse(result.timedOut, "sbatch --wait timed out\n\(result.output)\n\(log)")
        XCTAssertEqual(result.status, 0, "\(result.output)\n\(log)")
        let report = try decode(log)
        assertHealthy(report, ranks: 2)
        XCTAssertNotNil(report.slurm["SLURM_JOB_ID"], "doctor should report the Slurm job")
        XCTAssertEqual(report.slurm["SLURM_NTASKS"], "2")
    }
}
