/// Data-parallel training inside one process: the replicas of a thread team each take an equal
/// share of the batch, normalise with the whole batch's BatchNorm statistics (summed across the
/// team, and across ranks too with `--sync-bn`), and compute their gradients side by side; the
/// gradients are averaged into member 0's model in member order, `beforeUpdate` (the ranks'
/// all-reduce) and the optimizer run on it alone, and the others copy its new weights. One thread
/// or T: the same step up to float rounding.
public final class ReplicatedTraining {
    public let replicas: ModelReplicas

    /// The primary model (member 0's): the one checkpoints save and optimizers update.
    public var model: any Model { replicas.models[0] }
    public var count: Int { replicas.count }

    /// `outer`: the ranks' BatchNorm all-reduce (synchronised BatchNorm across `ranks`), or nil.
    public init(_ model: any Model, team: ThreadTeam, count: Int? = nil,
                outer: (ranks: Int, reduce: (UnsafeMutablePointer<Double>, Int) -> Void)? = nil) throws {
        replicas = try ModelReplicas(model, team: team, count: count)
        if replicas.count == 1 {
            model.batchNormSync = outer.map { BatchNormSync(ranks: $0.ranks, reduce: $0.reduce) }
        } else {
            // Each member's BatchNormSync holds the reducer.
            let reducer = TeamAllReduce(size: replicas.count, outer: outer?.reduce)
            for (member, m) in replicas.models.enumerated() {
                m.batchNormSync = reducer.batchNormSync(member: member, outerRanks: outer?.ranks ?? 1)
            }
        }
    }

    /// One step. `work(model, member)` computes member `member`'s gradients on its share (without
    /// throwing on a non-finite loss) and returns its loss and correct predictions; every loss is
    /// checked before any weight changes (the first non-finite one is thrown, naming `step`).
    public func step(optimizer: Optimizer, beforeUpdate: (([Parameter]) throws -> Void)?,
                     work: (any Model, Int) throws -> (loss: Double, correct: Int)) throws -> [(loss: Double, correct: Int)] {
        var results = [(loss: Double, correct: Int)?](repeating: nil, count: count)
        var errors = [Error?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { results in
            errors.withUnsafeMutableBufferPointer { errors in
                replicas.run { model, member in
                    do { results[member] = try work(model, member) } catch { errors[member] = error }
                }
            }
        }
        if let error = errors.compactMap({ $0 }).first { throw error }
        let done = results.map { $0! }
        if let bad = done.first(where: { !$0.loss.isFinite }) {
            throw NeuralError.nonFiniteLoss(step: optimizer.step, value: Float(bad.loss))
        }
        if count > 1 { averageGradients() }
        try model.update(optimizer: optimizer, beforeUpdate: beforeUpdate)
        if count > 1 { copyWeights() }
        return done
    }

    /// Member 0's gradients become the mean of every member's, summed in member order; the
    /// parameters are shared out over the team.
    private func averageGradients() {
        let lists = replicas.models.map { $0.parameters.filter(\.trainable) }
        let n = count, scale = 1 / Float(n)
        replicas.team.run { member in
            guard member < n else { return }
            for p in stride(from: member, to: lists[0].count, by: n) {
                lists[0][p].grad.withUnsafeMutableBufferPointer { g in
                    for m in 1..<n {
                        lists[m][p].grad.withUnsafeBufferPointer { o in
                            for i in 0..<g.count { g[i] += o[i] }
                        }
                    }
                    for i in 0..<g.count { g[i] *= scale }
                }
            }
        }
    }

    /// Every member takes member 0's weights and running statistics (after an update, or after
    /// member 0's model was loaded from a checkpoint), each member copying its own.
    public func copyWeights() {
        let primary = model
        replicas.run { model, member in if member > 0 { model.copyState(from: primary) } }
    }
}
