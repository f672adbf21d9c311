import ArgumentParser
import Cluster
import Foundation
import Neural
import Storage

/// `netosis`: quantify neutrophil NETosis from SYTOX fluorescence plates, on one core or an MPI job.
@main
struct Netosis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netosis",
        abstract: "Find, classify and count NETotic neutrophil nuclei in fluorescence plate images.",
        discussion: """
        Every verb runs alone (1 rank), under `mpirun -np N`, or under `srun`. Rank 0 prints; \
        other ranks stay quiet unless they fail. See docs/ for file formats and the cluster guide.
        """,
        version: ToolVersion.string,
        subcommands: [
            Doctor.self,
            Segment.self,
            Synth.self,
            SynthCellDeath.self,
            Prepare.self,
            Tiles.self,
            MapsCommand.self,
            Train.self,
            Evaluate.self,
            CalibrateRule.self,
            SaliencyCommand.self,
            Infer.self,
            Screen.self,
            Counts.self,
            Export.self,
            Analyze.self,
            Report.self,
            Bench.self,
        ]
    )

    static func main() {
        CPUCheck.refuseUnsupportedCPU()
        // OpenBLAS picks its kernels when it loads: apply our rule (may re-exec this binary).
        KernelPolicy.applyByReexec()
        // Compute on the cores this process owns, no more (its affinity, cgroup quota, share of the node).
        BLAS.threads = CoreBudget.current.threads
        // Interrupted runs remove their temporary files; a file-size limit becomes a write error.
        TemporaryFiles.installSignalCleanup()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
