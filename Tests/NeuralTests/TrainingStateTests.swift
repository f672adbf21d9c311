import Determinism
import Foundation
import Storage
import XCTest
@testable import Neural

/// The pieces data-parallel training adds to the engine: buffers in the flat all-reduce,
/// synchronised BatchNorm, and the training state of a checkpoint.
final class TrainingStateTests: XCTestCase {
    /// BatchNorm running statistics ride after the gradients and come back scaled (averaged).
    func testGradientBufferCarriesBuffers() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 1)
        var g = SplitMix64(seed: 2, skipping: 1)
        for p in model.parameters { for i in 0..<p.count { p.grad[i] = g.nextNormal() } }
        for b in model.buffers { for i in 0..<b.count { b.value[i] = g.nextNormal() } }
        let (grads, values) = (model.parameters.map(\.grad), model.buffers.map(\.value))
        let buffer = GradientBuffer(parameters: model.parameters, buffers: model.buffers)
        buffer.pack()
        XCTAssertEqual(buffer.buffer[buffer.count], values[0][0], "buffers follow the gradients")
        buffer.unpack(scale: 0.5)
        for (p, old) in zip(model.parameters, grads) { XCTAssertEqual(p.grad, old.map { $0 * 0.5 }, p.name) }
        for (b, old) in zip(model.buffers, values) { XCTAssertEqual(b.value, old.map { $0 * 0.5 }, b.name) }
    }

    /// Synchronised BatchNorm: two "ranks" (threads, summing their BatchNorm sums through a
    /// rendezvous) training on halves h1 and h2 end where one model trained on [h1; h2] does; without
    /// the sync they do not (each half normalises with its own statistics).
    func testSyncBatchNormEqualsTheWholeBatch() throws {
        let (n, s) = (4, 32)
        var g = SplitMix64(seed: 9, skipping: 1)
        let halves = (0..<2).map { _ in (0..<n * s * s).map { _ in g.nextNormal() } }
        let labels = [[0, 1, 2, 1], [2, 2, 0, 1]]
        func run(sync: Bool) throws -> (ranks: [DenseNet], whole: DenseNet) {
            let ranks = try (0..<2).map { _ in try DenseNet(named: "densenet-tiny", seed: 5) }
            let whole = try DenseNet(named: "densenet-tiny", seed: 5)
            let meet = Rendezvous()
            if sync { for (r, model) in ranks.enumerated() { model.batchNormSync = BatchNormSync(ranks: 2) { meet.sum(rank: r, $0, $1) } } }
            let optimizers = (0..<2).map { _ in SGD(schedule: LearningRateSchedule(base: 0.1)) }
            let gradients = ranks.map { GradientBuffer(parameters: $0.parameters, buffers: $0.buffers) }
            let sgd = SGD(schedule: LearningRateSchedule(base: 0.1))
            for _ in 0..<2 {
                let done = DispatchGroup()
                let threads = (0..<2).map { r in Thread {
                    defer { done.leave() }
                    _ = try? ranks[r].trainStep(images: halves[r], labels: labels[r], height: s, width: s, loss: SoftmaxCrossEntropy(),
                                                optimizer: optimizers[r]) { _ in
                        // The gradient all-reduce (mean) of data-parallel training.
                        gradients[r].pack()
                        meet.sumFloats(rank: r, gradients[r].buffer)
                        gradients[r].unpack(scale: 0.5)
                    }
                } }
                for t in threads { done.enter(); t.start() }
                done.wait()
                try whole.trainStep(images: halves[0] + halves[1], labels: labels[0] + labels[1], height: s, width: s,
                                    loss: SoftmaxCrossEntropy(), optimizer: sgd)
            }
            return (ranks, whole)
        }
        func largest(_ a: DenseNet, _ b: DenseNet) -> Float {
            zip(a.stateTensors, b.stateTensors).map { x, y in
                zip(x.value, y.value).map { abs($0 - $1) }.max()! / max(y.value.map(abs).max()!, 1e-6)
            }.max()!
        }
        let synced = try run(sync: true)
        XCTAssertEqual(largest(synced.ranks[0], synced.ranks[1]), 0, "replicas stay identical")
        XCTAssertLessThanOrEqual(largest(synced.ranks[0], synced.whole), 5e-5)
        let ddp = try run(sync: false)
        XCTAssertGreaterThan(largest(ddp.ranks[0], ddp.whole), 1e-3)
    }

    /// /state and /history round-trip through a checkpoint; history.csv mirrors /history.
    func testTrainingStateRoundTrip() throws {
        let path = NSTemporaryDirectory() + "training-state-\(getpid()).h5"
        defer { unlink(path) }
        let model = try DenseNet(named: "densenet-tiny", seed: 1)
        let state = TrainingState(epoch: 2, step: 31, position: 1, globalBatch: 16, worldSize: 2, seed: UInt64.max - 3,
                                  bestValLoss: 0.25, badEpochs: 1, epochLossSum: 3.5, epochCorrect: 12, epochSeen: 16,
                                  epochSeconds: 1.5, configuration: "{\"lr\":0.1}")
        let history = [EpochRecord(epoch: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: .nan, valAccuracy: .nan,
                                   valRecall: [.nan, 1, 0.5], learningRate: 0.1, imagesPerSecond: 100, seconds: 2),
                       EpochRecord(epoch: 2, trainLoss: 0.5, trainAccuracy: 0.75, valLoss: 0.25, valAccuracy: 0.9,
                                   valRecall: [1, 0.8, 0.9], learningRate: 0.09, imagesPerSecond: 120, seconds: 1.8)]
        try WeightIO.save(model, to: path) { try TrainingCheckpoint.write(state: state, history: history, classes: 3, into: $0) }
        let (readState, readHistory) = try XCTUnwrap(TrainingCheckpoint.read(path: path))
        XCTAssertEqual(readState, state)
        XCTAssertEqual(readHistory.count, 2)
        XCTAssertEqual(readHistory[1], history[1])
        XCTAssertTrue(readHistory[0].valLoss.isNaN && readHistory[0].valRecall[0].isNaN)
        XCTAssertEqual(readHistory[0].valRecall[1...], [1, 0.5])
        let csv = TrainingCheckpoint.csv(history, classNames: ["other", "non-NETotic", "NETotic"]).split(separator: "\n")
        XCTAssertEqual(csv[0], "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,seconds,"
                       + "val_recall_other,val_recall_non-NETotic,val_recall_NETotic")
        XCTAssertEqual(csv[1], "1,1,0.5,,,0.1,100,2,,1,0.5")
        // A weights-only checkpoint has no training state.
        try WeightIO.save(model, to: path)
        XCTAssertNil(try TrainingCheckpoint.read(path: path))
    }
}

/// Two threads meet to sum buffers (an all-reduce of two "ranks").
final class Rendezvous: @unchecked Sendable {
    private let condition = NSCondition()
    private var parts: [[Double]?] = [nil, nil]
    private var taken = 0
    private var generation = 0

    func sum(rank: Int, _ values: UnsafeMutablePointer<Double>, _ count: Int) {
        let total = exchange(rank: rank, Array(UnsafeBufferPointer(start: values, count: count)))
        for i in 0..<count { values[i] = total[i] }
    }

    func sumFloats(rank: Int, _ buffer: UnsafeMutableBufferPointer<Float>) {
        let total = exchange(rank: rank, buffer.map(Double.init))
        for i in buffer.indices { buffer[i] = Float(total[i]) }
    }

    /// Both halves summed in the same order on both sides (so both get bit-identical results).
    private func exchange(rank: Int, _ mine: [Double]) -> [Double] {
        condition.lock(); defer { condition.unlock() }
        while taken > 0 { condition.wait() }     // the previous exchange is still being read
        parts[rank] = mine
        let mineGeneration = generation
        if parts[0] != nil && parts[1] != nil { condition.broadcast() }
        while (parts[0] == nil || parts[1] == nil) && generation == mineGeneration { condition.wait() }
        let total = zip(parts[0]!, parts[1]!).map { $0 + $1 }
        taken += 1
        if taken == 2 { parts = [nil, nil]; taken = 0; generation += 1; condition.broadcast() }
        return total
    }
}
