import ArgumentParser
import Cluster

/// A verb that runs the same alone, under mpirun or under srun.
/// Its body gets the world communicator; an error on any rank aborts the whole job with
/// that rank's number and message (never a hang), and the process exits non-zero.
protocol DistributedCommand: ParsableCommand {
    func run(on world: Communicator) throws
}

extension DistributedCommand {
    func run() throws {
        let world = try Communicator.world()
        world.runOrAbort { try run(on: world) }
    }
}
