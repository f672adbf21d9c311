import Foundation
import Storage

/// One epoch of a training run: `/history/<field>` in a checkpoint and one row of `history.csv`.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    /// NaN when the file has no validation split.
    public var valLoss: Double
    public var valAccuracy: Double
    /// Recall per class on the validation split (NaN for a class without validation patches).
    public var valRecall: [Double]
    public var learningRate: Double
    public var imagesPerSecond: Double
    public var seconds: Double

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, valLoss: Double, valAccuracy: Double,
                valRecall: [Double], learningRate: Double, imagesPerSecond: Double, seconds: Double) {
        self.epoch = epoch; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
        self.valLoss = valLoss; self.valAccuracy = valAccuracy; self.valRecall = valRecall
        self.learningRate = learningRate; self.imagesPerSecond = imagesPerSecond; self.seconds = seconds
    }

    static let columns = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "learning_rate",
                          "images_per_second", "seconds"]
}

/// Where a training run stands: the `/state` attributes of a checkpoint. With the weights, the
/// BatchNorm buffers and the optimizer state it is everything a resumed run needs to continue
/// exactly: the shuffle and the augmentation are keyed by (seed, epoch, patch row), so (seed,
/// epoch, position) are the sampler's and the RNG's whole state.
public struct TrainingState: Codable, Equatable, Sendable {
    /// The epoch in progress (0-based); `position` batches of it are done.
    public var epoch: Int
    /// Optimizer steps applied so far (over all epochs).
    public var step: Int
    /// Global batches of `epoch` already trained (0: the epoch starts afresh).
    public var position: Int
    public var globalBatch: Int
    /// Ranks of the run that wrote the checkpoint.
    public var worldSize: Int
    public var seed: UInt64
    /// Lowest validation loss so far (+∞ before the first validation).
    public var bestValLoss: Double
    /// Epochs since the best validation loss (early stopping stops at `patience`).
    public var badEpochs: Int
    /// Sums over the finished batches of `epoch` (so its history row is exact after a resume).
    public var epochLossSum: Double
    public var epochCorrect: Int
    public var epochSeen: Int
    public var epochSeconds: Double
    /// The full training configuration (JSON).
    public var configuration: String

    public init(epoch: Int = 0, step: Int = 0, position: Int = 0, globalBatch: Int, worldSize: Int, seed: UInt64,
                bestValLoss: Double = .infinity, badEpochs: Int = 0, epochLossSum: Double = 0, epochCorrect: Int = 0,
                epochSeen: Int = 0, epochSeconds: Double = 0, configuration: String) {
        self.epoch = epoch; self.step = step; self.position = position; self.globalBatch = globalBatch
        self.worldSize = worldSize; self.seed = seed; self.bestValLoss = bestValLoss; self.badEpochs = badEpochs
        self.epochLossSum = epochLossSum; self.epochCorrect = epochCorrect; self.epochSeen = epochSeen
        self.epochSeconds = epochSeconds; self.configuration = configuration
    }
}

/// `/state` and `/history` of a checkpoint (format_version 2; see docs/file-formats.md).
public enum TrainingCheckpoint {
    /// Writes `/state` (attributes) and `/history` (one 1-D dataset per field, [E, classes] for the recall).
    /// `perOutput` names the per-output validation column: `val_recall` (classes) or `val_mae` (counts).
    public static func write(state: TrainingState, history: [EpochRecord], classes: Int, perOutput: String = "val_recall",
                             into file: HDF5Group) throws {
        let group = try file.requireGroup("state")
        try group.setAttribute("epoch", Int64(state.epoch))
        try group.setAttribute("step", Int64(state.step))
        try group.setAttribute("position", Int64(state.position))
        try group.setAttribute("global_batch", Int64(state.globalBatch))
        try group.setAttribute("world_size", Int64(state.worldSize))
        try group.setAttribute("seed", Int64(bitPattern: state.seed))
        try group.setAttribute("best_val_loss", state.bestValLoss)
        try group.setAttribute("bad_epochs", Int64(state.badEpochs))
        try group.setAttribute("epoch_loss_sum", state.epochLossSum)
        try group.setAttribute("epoch_correct", Int64(state.epochCorrect))
        try group.setAttribute("epoch_seen", Int64(state.epochSeen))
        try group.setAttribute("epoch_seconds", state.epochSeconds)
        try group.setAttribute("configuration", state.configuration)
        let h = try file.requireGroup("history")
        let e = history.count
        func options(_ row: [Int] = []) -> DatasetOptions {
            DatasetOptions(chunk: [max(e, 1)] + row, maxShape: [nil] + row.map { $0 }, checksum: true)
        }
        func column(_ name: String, _ values: [Double]) throws {
            try h.write(name, values, shape: [e], options: options())
        }
        try h.write("epoch", history.map { Int32($0.epoch) }, shape: [e], options: options())
        try column("train_loss", history.map(\.trainLoss))
        try column("train_accuracy", history.map(\.trainAccuracy))
        try column("val_loss", history.map(\.valLoss))
        try column("val_accuracy", history.map(\.valAccuracy))
        try column("learning_rate", history.map(\.learningRate))
        try column("images_per_second", history.map(\.imagesPerSecond))
        try column("seconds", history.map(\.seconds))
        try h.write(perOutput, history.flatMap { r in (0..<classes).map { $0 < r.valRecall.count ? r.valRecall[$0] : .nan } },
                    shape: [e, classes], options: options([classes]))
    }

    /// Reads `/state` and `/history` of a checkpoint (nil state: a checkpoint of weights only).
    public static func read(path: String) throws -> (state: TrainingState, history: [EpochRecord])? {
        let file = try FileHeader.open(path, expecting: WeightIO.format).0
        guard file.exists("state") else { return nil }
        do {
            let g = try file.group("state")
            func int(_ name: String) throws -> Int { Int(try g.attribute(name, as: Int64.self)) }
            let state = TrainingState(
                epoch: try int("epoch"), step: try int("step"), position: try int("position"),
                globalBatch: try int("global_batch"), worldSize: try int("world_size"),
                seed: UInt64(bitPattern: try g.attribute("seed", as: Int64.self)),
                bestValLoss: try g.attribute("best_val_loss", as: Double.self), badEpochs: try int("bad_epochs"),
                epochLossSum: try g.attribute("epoch_loss_sum", as: Double.self), epochCorrect: try int("epoch_correct"),
                epochSeen: try int("epoch_seen"), epochSeconds: try g.attribute("epoch_seconds", as: Double.self),
                configuration: try g.stringAttribute("configuration"))
            var history: [EpochRecord] = []
            if file.exists("history") {
                let h = try file.group("history")
                let epochs: [Int32] = try h.read("epoch")
                func column(_ name: String) throws -> [Double] { try h.read(name, as: Double.self) }
                let (tl, ta, vl, va) = (try column("train_loss"), try column("train_accuracy"), try column("val_loss"), try column("val_accuracy"))
                let (lr, ips, sec) = (try column("learning_rate"), try column("images_per_second"), try column("seconds"))
                let recall = try column(h.exists("val_mae") ? "val_mae" : "val_recall")
                let classes = epochs.isEmpty ? 0 : recall.count / epochs.count
                for i in epochs.indices {
                    history.append(EpochRecord(epoch: Int(epochs[i]), trainLoss: tl[i], trainAccuracy: ta[i], valLoss: vl[i],
                                               valAccuracy: va[i], valRecall: Array(recall[i * classes ..< (i + 1) * classes]),
                                               learningRate: lr[i], imagesPerSecond: ips[i], seconds: sec[i]))
                }
            }
            return (state, history)
        } catch {
            throw NeuralError.unreadableWeights(file: path, detail: "training state: \(error)")
        }
    }

    /// `history.csv`: the `/history` columns, then `val_recall_<class>` per class.
    public static func csv(_ history: [EpochRecord], classNames: [String], perOutput: String = "val_recall") -> String {
        var text = (EpochRecord.columns + classNames.map { perOutput + "_" + $0.replacingOccurrences(of: ",", with: "_") })
            .joined(separator: ",") + "\n"
        func f(_ x: Double) -> String { x.isNaN ? "" : String(format: "%.6g", x) }
        for r in history {
            let fields = ["\(r.epoch)", f(r.trainLoss), f(r.trainAccuracy), f(r.valLoss), f(r.valAccuracy), f(r.learningRate),
                          f(r.imagesPerSecond), f(r.seconds)]
                + (0..<classNames.count).map { $0 < r.valRecall.count ? f(r.valRecall[$0]) : "" }
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    /// A checksum of every value of `tensors` (bit patterns, FNV-1a 64): equal on every rank while
    /// the replicas are identical.
    public static func checksum(_ tensors: [Parameter]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for t in tensors {
            t.value.withUnsafeBufferPointer { v in
                for x in v { h = (h ^ UInt64(x.bitPattern)) &* 0x0000_0100_0000_01b3 }
            }
        }
        return h
    }
}
