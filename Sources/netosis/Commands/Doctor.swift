import ArgumentParser
import Cluster
import Foundation
import Pipeline

struct Doctor: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check MPI, HDF5, libtiff and OpenBLAS on every rank; report versions and Slurm context.",
        discussion: "Exits non-zero if any rank fails a check. Run it the way jobs run: `mpirun -np N netosis doctor` or `srun netosis doctor`.")

    @Flag(help: "Print the report as JSON (rank 0 only).")
    var json = false

    func run(on world: Communicator) throws {
        let report = try Pipeline.Doctor.run(world: world, toolVersion: NetosisVersion.string)
        if world.isRoot {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(Pipeline.Doctor.text(report))
            }
        }
        if !report.ok {
            // Every rank holds the same report, so all leave together: no abort needed.
            MPIRuntime.finalize()
            Foundation.exit(1)
        }
    }
}
