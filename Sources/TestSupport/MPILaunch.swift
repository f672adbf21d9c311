import Foundation

/// Environment for launching mpirun from tests: allowed as root (CI runs as root), shared
/// memory transport only, and oversubscription so -np 3 works on a 2-core machine.
public let mpirunEnvironment: [String: String] = [
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_btl": "self,vader",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OPENBLAS_NUM_THREADS": "1",
]

/// Runs `mpirun -np N program args...` with a time limit.
public func mpirun(_ ranks: Int, _ program: String, _ arguments: [String], timeout: TimeInterval = 120,
                   environment: [String: String] = [:]) throws -> ProcessResult {
    guard let launcher = which("mpirun") else { throw TestSetupError("mpirun not found: run `make setup`") }
    let env = mpirunEnvironment.merging(environment) { _, new in new }
    return try runProgram(launcher, ["-np", "\(ranks)", program] + arguments, environment: env, timeout: timeout)
}
