import Foundation

/// Test-only fault injection, so the hostile-input suite can stop a run at an exact point
/// instead of racing it with sleeps. `NETOSIS_FAULT=<point>:<n>:<action>` makes the n-th pass
/// through `FaultPoint.pass("<point>")` either raise SIGTERM on this process (`term`) or throw
/// (`fail`, as a failing write would), or makes `FaultPoint.fires` return true for that pass (`hit`,
/// for faults the caller injects itself, e.g. a NaN in one rank's batch), or SIGKILLs this process
/// (`kill`: no handler, no cleanup — a node dying). A fourth field limits the plan to one MPI rank
/// (`screen-image:2:kill:1`; the rank as mpirun or srun sets it in the environment). Unset in normal
/// use: one dictionary lookup per pass.
public enum FaultPoint {
    struct Plan { var point: String; var count: Int; var action: String }

    private static let plan: Plan? = {
        guard let text = ProcessInfo.processInfo.environment["NETOSIS_FAULT"] else { return nil }
        let parts = text.split(separator: ":").map(String.init)
        guard parts.count == 3 || parts.count == 4, let n = Int(parts[1]), n > 0,
              ["term", "fail", "hit", "kill"].contains(parts[2]) else { return nil }
        if parts.count == 4 {
            let env = ProcessInfo.processInfo.environment
            let rank = env["OMPI_COMM_WORLD_RANK"] ?? env["PMIX_RANK"] ?? env["SLURM_PROCID"] ?? "0"
            guard rank == parts[3] else { return nil }
        }
        return Plan(point: parts[0], count: n, action: parts[2])
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var passes: [String: Int] = [:]

    /// Marks one pass through a named point where the caller injects the fault: true on the n-th
    /// pass of a `hit` plan for this point.
    public static func fires(_ point: String) -> Bool {
        guard let plan, plan.point == point, plan.action == "hit" else { return false }
        let n = lock.withLock { () -> Int in passes[point, default: 0] += 1; return passes[point]! }
        return n == plan.count
    }

    /// Marks one pass through a named point (e.g. "prepare-image", "atomic-rename").
    public static func pass(_ point: String) throws {
        guard let plan, plan.point == point, plan.action != "hit" else { return }
        let n = lock.withLock { () -> Int in passes[point, default: 0] += 1; return passes[point]! }
        guard n == plan.count else { return }
        if plan.action == "kill" { kill(getpid(), SIGKILL); while true { pause() } }
        if plan.action == "term" {
            // To the process, not this thread: worker threads block signals. Then wait here for
            // the handler to end the process, so the run cannot go on past the fault point.
            kill(getpid(), SIGTERM)
            while true { pause() }
        }
        throw WriteError(path: "", problem: "injected fault at \(point) #\(n) (NETOSIS_FAULT)")
    }
}
