/// One copy of a model per member of a thread team, all with the same weights and running
/// statistics, so that several batches go through the network at once, each on its own core with
/// single-threaded BLAS — what one-thread MPI ranks do, inside one process. A batch's logits do not
/// depend on which replica ran it (same weights, same arithmetic, same batch), so results are the
/// same at every thread count.
public final class ModelReplicas {
    public let models: [any Model]
    public let team: ThreadTeam

    /// `model` is member 0's; the others are its `replica()`s.
    /// `count` (≤ the team's size) replicas; the team's other members idle.
    public init(_ model: any Model, team: ThreadTeam = .shared, count: Int? = nil) throws {
        let count = min(count ?? team.size, team.size)
        precondition(count >= 1, "ModelReplicas: count \(count)")
        var models = [model]
        for _ in 1..<count { models.append(try model.replica()) }
        self.models = models
        self.team = team
    }

    public var count: Int { models.count }

    /// Runs `body(model, member)` on every replica at once.
    public func run(_ body: (any Model, Int) -> Void) {
        if models.count == 1 { body(models[0], 0); return }
        team.run { member in if member < models.count { body(models[member], member) } }
    }
}
