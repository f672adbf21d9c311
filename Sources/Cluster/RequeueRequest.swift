/// Thrown on every rank when the job agreed to stop early with its state saved (pre-emption, a
/// time limit): `runOrAbort` then ends each rank with `exitStatus` instead of aborting, and
/// slurm/run.sbatch requeues the job on that status.
public struct RequeueRequest: Error, CustomStringConvertible {
    /// EX_TEMPFAIL: "checkpointed, run me again".
    public static let exitStatus: Int32 = 75
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
