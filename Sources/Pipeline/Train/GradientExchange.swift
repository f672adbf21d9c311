import Cluster
import Foundation
import Neural

extension PendingReduce: ReductionInFlight {}

/// The gradient all-reduce of data-parallel training (`train`, `bench`): the mean over ranks of
/// every gradient and BatchNorm running statistic, before each update. With one replica per rank
/// the buckets of `OverlappedGradients` start as backward finishes them; with a thread team the
/// replicas' gradients are averaged after backward (`ReplicatedTraining`), so the exchange is one
/// flat all-reduce then. NETOSIS_OVERLAP=0 makes it one flat all-reduce always (comparisons).
final class GradientExchange {
    private let world: Communicator
    private let flat: GradientBuffer?
    private let overlapped: OverlappedGradients?
    private let model: any Model
    /// Wall time spent in the exchange outside backward (packing, waiting, unpacking).
    private(set) var seconds = 0.0

    static var overlapEnabled: Bool { ProcessInfo.processInfo.environment["NETOSIS_OVERLAP"] != "0" }

    /// Overlap needs every rank to issue the same collectives in the same order during backward:
    /// with `syncBN` a rank whose loss is not finite (which starts no bucket) would still join the
    /// BatchNorm all-reduces, so synchronised BatchNorm keeps the flat exchange.
    init(model: any Model, world: Communicator, replicas: Int, syncBN: Bool = false) {
        self.world = world; self.model = model
        let buffers = model.buffers
        if replicas == 1 && !syncBN && GradientExchange.overlapEnabled {
            let exchange = OverlappedGradients(parameters: model.parameters, buffers: buffers) { slice in
                try world.startAllReduce(slice, .sum)
            }
            overlapped = exchange
            flat = nil
            exchange.begin()
            model.gradientsReady = { parameter in Profiler.time(.communication) { exchange.ready(from: parameter) } }
        } else {
            overlapped = nil
            flat = GradientBuffer(parameters: model.parameters, buffers: buffers)
        }
    }

    deinit { model.gradientsReady = nil }

    /// The `beforeUpdate` hook: after it every gradient (and running statistic) is the ranks' mean.
    /// An error here is fatal to the job (train and bench end in MPI_Abort): requests still in
    /// flight are not cancelled.
    func finish() throws {
        let started = Date()
        defer { seconds += Date().timeIntervalSince(started) }
        let scale = 1 / Float(world.size)
        if let overlapped {
            try overlapped.finish(scale: scale)
            overlapped.begin()   // ready for the next step's backward
            return
        }
        guard let flat else { return }
        flat.pack()
        try world.allReduce(flat.buffer, .sum)
        flat.unpack(scale: scale)
    }
}
