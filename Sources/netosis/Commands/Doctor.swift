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
        let console = Console("doctor", world: world)
        let report = try DoctorJob.run(json: json, world: world, log: console.log, warn: console.warn,
                                       progress: console.progress)
        if !report.ok {
            // Every rank holds the same report, so all leave together: no abort needed.
            MPIRuntime.finalize()
            Foundation.exit(1)
        }
    }
}
