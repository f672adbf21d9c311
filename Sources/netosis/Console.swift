import Cluster
import Foundation

/// Where a job's words go on a terminal or in a Slurm log: rank 0 prints results on stdout,
/// warnings on stderr and progress through a `ProgressLine`; other ranks stay quiet (their
/// failures reach the user through the job-wide abort instead).
struct Console {
    let log: (String) -> Void
    let warn: (String) -> Void
    let progress: (_ done: Int, _ total: Int) -> Void
    /// Progress with a detail ("4200 nuclei/s, 1 failed").
    let status: (_ done: Int, _ total: Int, _ detail: String) -> Void

    init(_ label: String, world: Communicator) {
        let isRoot = world.isRoot
        log = { line in if isRoot { print(line); fflush(stdout) } }
        warn = { line in if isRoot { FileHandle.standardError.write(Data(("warning: " + line + "\n").utf8)) } }
        let line = ProgressLine(label, rank: world.rank)
        progress = line.update
        status = line.update
    }
}
