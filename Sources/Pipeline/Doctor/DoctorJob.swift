import Cluster
import Foundation
import Imaging
import Neural
import Storage

/// `netosis doctor`: is this node (or allocation) able to run netosis? Every rank checks its own
/// libraries and BLAS speed; rank 0 collects and reports. A failing check makes the exit non-zero.
public enum DoctorJob {
    /// What one rank found.
    public struct RankReport: Codable, Sendable {
        public var rank: Int
        public var size: Int
        public var host: String
        public var pid: Int32
        public var openblasCore: String
        public var openblasCoreTypeEnv: String?
        public var openblasThreads: Int
        /// Compute threads (the thread team) and where the number comes from (CoreBudget).
        public var threadsSource: String?
        public var sgemmGFLOPS: Double
        public var cpuHasAVX512: Bool
        public var checks: [Check]
    }

    public struct Check: Codable, Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    public struct Report: Codable, Sendable {
        public var tool: String
        public var toolVersion: String
        public var mpiLibrary: String
        public var hdf5Version: String
        public var tiffVersion: String
        public var openblasConfig: String
        public var slurm: [String: String]
        public var ranks: [RankReport]
        public var ok: Bool
    }

    /// Runs every check on every rank; rank 0 logs the report (text or JSON). Every rank returns
    /// the same job-wide report, so all can leave together when a check failed.
    @discardableResult
    public static func run(json: Bool = false, world: Communicator,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> Report {
        let report = try self.report(world: world)
        if world.isRoot {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                log(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                log(text(report))
            }
        }
        return report
    }

    /// Runs every check on every rank and returns the job-wide report on all ranks.
    public static func report(world: Communicator, toolVersion: String = ToolVersion.string) throws -> Report {
        let mine = try localReport(world: world)
        let everyone = try world.allGather(mine)
        let allAnswered = everyone.count == world.size && Set(everyone.map(\.rank)) == Set(0..<world.size)
        let ok = allAnswered && everyone.allSatisfy { $0.checks.allSatisfy(\.ok) }
        let environment = ProcessInfo.processInfo.environment
        let slurm = environment.filter { $0.key.hasPrefix("SLURM_") && slurmKeys.contains($0.key) }
        return Report(tool: "netosis", toolVersion: toolVersion, mpiLibrary: MPIRuntime.libraryVersion,
                      hdf5Version: HDF5.libraryVersion, tiffVersion: TIFFLibrary.version,
                      openblasConfig: BLAS.configuration, slurm: slurm, ranks: everyone, ok: ok)
    }

    static let slurmKeys: Set<String> = ["SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_JOB_NODELIST", "SLURM_NTASKS",
                                         "SLURM_PROCID", "SLURM_CPUS_PER_TASK", "SLURM_CLUSTER_NAME",
                                         "SLURM_JOB_PARTITION", "SLURM_SUBMIT_DIR", "SLURM_STEP_ID"]

    static func localReport(world: Communicator) throws -> RankReport {
        var checks: [Check] = []
        // MPI: a collective every rank must join; the sum is the rank count only if all answered.
        let answered = try world.allReduce(Int32(1), .sum)
        checks.append(Check(name: "mpi", ok: Int(answered) == world.size,
                            detail: "\(answered) of \(world.size) ranks answered an all-reduce"))
        checks.append(storageCheck(rank: world.rank))
        checks.append(tiffCheck(rank: world.rank))
        let blas = BLAS.measureGFLOPS(n: 512, repetitions: 5)
        checks.append(Check(name: "openblas", ok: blas.correct,
                            detail: blas.correct ? "sgemm 512³ correct" : "sgemm 512³ gave a wrong product"))
        let flags = KernelPolicy.cpuFlags()
        return RankReport(rank: world.rank, size: world.size, host: MPIRuntime.processorName, pid: getpid(),
                          openblasCore: BLAS.coreName,
                          openblasCoreTypeEnv: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"],
                          openblasThreads: BLAS.threads, threadsSource: CoreBudget.current.source, sgemmGFLOPS: (blas.gflops * 10).rounded() / 10,
                          cpuHasAVX512: flags.contains("avx512f"), checks: checks)
    }

    /// Writes, reopens and compares a small chunked, compressed HDF5 file.
    static func storageCheck(rank: Int) -> Check {
        let path = NSTemporaryDirectory() + "netosis-doctor-\(getpid())-\(rank).h5"
        defer { unlink(path) }
        do {
            let values = (0..<4096).map { Float($0) * 0.25 }
            do {
                let file = try HDF5File.create(path)
                try file.write("check", values, shape: [64, 64], options: DatasetOptions(chunk: [16, 64], deflate: 4, shuffle: true))
                try file.setAttribute("format", "netosis.doctor")
            }
            let file = try HDF5File.open(path)
            let back: [Float] = try file.read("check")
            let format = try file.stringAttribute("format")
            let ok = back == values && format == "netosis.doctor"
            return Check(name: "hdf5", ok: ok, detail: ok ? "chunked+deflate round trip" : "round trip differs")
        } catch {
            return Check(name: "hdf5", ok: false, detail: "\(error)")
        }
    }

    /// Writes, reads back and compares a 16-bit deflate TIFF.
    static func tiffCheck(rank: Int) -> Check {
        let path = NSTemporaryDirectory() + "netosis-doctor-\(getpid())-\(rank).tif"
        defer { unlink(path) }
        do {
            let image = GrayImage(width: 67, height: 31, bitDepth: 16,
                                  pixels: (0..<(67 * 31)).map { UInt16(($0 * 977) % 65536) })
            try TIFFWriter.write(image, to: path, compression: .deflate)
            let back = try TIFFReader.read(path)
            let ok = back == image
            return Check(name: "libtiff", ok: ok, detail: ok ? "16-bit deflate round trip" : "round trip differs")
        } catch {
            return Check(name: "libtiff", ok: false, detail: "\(error)")
        }
    }

    /// Human-readable report: one line per rank, then library versions and Slurm context.
    public static func text(_ report: Report) -> String {
        var lines: [String] = []
        for r in report.ranks {
            let failed = r.checks.filter { !$0.ok }.map { "\($0.name): \($0.detail)" }
            lines.append("rank \(r.rank)/\(r.size) host=\(r.host) pid=\(r.pid) openblas=\(r.openblasCore) "
                + "threads=\(r.openblasThreads)" + (r.threadsSource.map { " (\($0))" } ?? "") + " sgemm=\(String(format: "%.1f", r.sgemmGFLOPS)) GFLOP/s "
                + (failed.isEmpty ? "checks=ok" : "FAILED \(failed.joined(separator: "; "))"))
        }
        lines.append("MPI:      \(report.mpiLibrary)")
        lines.append("HDF5:     \(report.hdf5Version)")
        lines.append("libtiff:  \(report.tiffVersion)")
        lines.append("OpenBLAS: \(report.openblasConfig)")
        if let first = report.ranks.first {
            let env = first.openblasCoreTypeEnv.map { "OPENBLAS_CORETYPE=\($0)" } ?? "OPENBLAS_CORETYPE unset (autodetect)"
            let hint = first.cpuHasAVX512 && !first.openblasCore.lowercased().contains("skylakex")
                && !first.openblasCore.lowercased().contains("cooperlake")
                ? " — CPU has AVX-512 but AVX2 kernels are active (set NETOSIS_OPENBLAS_CORETYPE=auto or SkylakeX)" : ""
            lines.append("kernels:  \(first.openblasCore) (\(env))\(hint)")
        }
        if report.slurm.isEmpty {
            lines.append("Slurm:    not in a Slurm job")
        } else {
            lines.append("Slurm:    " + report.slurm.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        lines.append(report.ok ? "doctor: all checks passed on \(report.ranks.count) rank(s)" : "doctor: FAILED")
        return lines.joined(separator: "\n")
    }
}
