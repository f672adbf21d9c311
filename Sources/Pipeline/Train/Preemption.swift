import Cluster
import Foundation

/// SIGUSR1 or SIGTERM during training (Slurm's warning before a time limit, pre-emption,
/// `scancel --signal=USR1 --batch`): the handler only raises a flag; the ranks agree on it at the
/// next step (an all-reduce), write one checkpoint and stop with status 75 so the job is requeued.
enum Preemption {
    /// Written by the signal handler, read by the training loop.
    nonisolated(unsafe) private static let flag: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    private static let raise: @convention(c) (Int32) -> Void = { signal in
        Preemption.flag.pointee = signal
    }

    /// Replaces the default (die, removing temporaries) for the length of training.
    static func install() {
        _ = flag
        signal(SIGUSR1, raise)
        signal(SIGTERM, raise)
    }

    /// The signal any rank received (0: none); every rank calls it at the same step.
    static func agreed(_ world: Communicator?) throws -> Int32 {
        var seen = flag.pointee
        if let world, world.size > 1 { seen = try world.allReduce(seen, .max) }
        return seen
    }

    /// The signal received so far on this rank (0: none), without agreeing with the others.
    static var raised: Int32 { flag.pointee }

    static func name(_ signal: Int32) -> String { signal == SIGUSR1 ? "SIGUSR1" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)" }
}
