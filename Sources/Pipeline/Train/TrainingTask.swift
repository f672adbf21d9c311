import Cluster
import Determinism
import Foundation
import Imaging
import Neural
import Storage

/// What a training run learns: where its batches come from, how a batch becomes a loss and a step,
/// and how the validation split is scored. `TrainJob`'s loop (sharding, all-reduce, checkpoints,
/// resume, pre-emption) is the same for every task.
protocol TrainingTask: AnyObject {
    /// Samples of the training split (the loop drops the last partial global batch).
    var trainCount: Int { get }
    var validationCount: Int { get }
    /// Per-sample input: height × width × channels floats, channels last.
    var height: Int { get }
    var width: Int { get }
    var channels: Int { get }
    /// Names of the network's outputs: the classes, or the counts.
    var outputNames: [String] { get }
    /// The per-output validation metric in the history (`val_recall` per class, `val_mae` per count).
    var perOutputMetric: String { get }
    /// Samples per validation forward.
    var validationBatch: Int { get }
    /// This rank's part of global batch `batch` of `epoch` into `input`, its labels or targets kept
    /// in `slot` (one per thread of the team); returns its sample count.
    func fill(batch: Int, epoch: Int, rank: Int, worldSize: Int, into input: UnsafeMutableBufferPointer<Float>, slot: Int) throws -> Int
    /// Forward, loss and backward of the batch last filled into `slot`: the gradients, the batch
    /// loss and (classification) its correct predictions. A non-finite loss is returned, not thrown.
    func gradients(_ model: any Model, input: UnsafePointer<Float>, count: Int, slot: Int, step: Int) throws -> (loss: Double, correct: Int)
    /// The validation split scored by the model in inference mode, each sample once across ranks.
    func validate(_ model: any Model, rank: Int, size: Int, world: Communicator?, input: inout [Float]) throws -> TrainJob.Validation
}

/// Classification of patches (patches.h5): the OL model and every window network.
final class ClassificationTask: TrainingTask {
    let dataset: PatchDataset
    let loader: BatchLoader
    let validation: BatchLoader
    let loss: ClassificationLoss
    private var labels: [[Int32]] = []
    private var validationLabels: [Int32] = []

    init(dataset: PatchDataset, settings: ResolvedTrainSettings, model: ModelConfig, perRank: Int,
         log: (String) -> Void, rank: Int) throws {
        self.dataset = dataset
        let weights = settings.classWeights.weights(counts: dataset.classCounts(in: .train))
        loss = settings.loss == .ce ? SoftmaxCrossEntropy(classWeights: weights) : FocalLoss(gamma: settings.focalGamma, alpha: weights)
        if rank == 0, let weights, settings.classWeights == .auto {
            log("train: class weights (auto) " + zip(dataset.classNames, weights).map { "\($0) \(String(format: "%.3g", $1))" }.joined(separator: ", "))
        }
        let normalization = try BatchLoader.Normalization.of(model, for: dataset)
        loader = BatchLoader(dataset: dataset, split: .train, batchSize: perRank, seed: settings.seed,
                             augment: settings.augment, maxDegrees: settings.maxDegrees, lighting: settings.lighting ?? 0,
                             normalization: normalization)
        validation = BatchLoader(dataset: dataset, split: .val, batchSize: dataset.sampleSize > 65_536 ? 8 : 64, seed: settings.seed, augment: false,
                                 shuffle: false, padShards: false, normalization: normalization)
    }

    var trainCount: Int { loader.rows.count }
    var validationCount: Int { validation.rows.count }
    var height: Int { dataset.height }
    var width: Int { dataset.width }
    var channels: Int { dataset.channels }
    var outputNames: [String] { dataset.classNames }
    var perOutputMetric: String { "val_recall" }
    var validationBatch: Int { validation.batchSize }

    func fill(batch: Int, epoch: Int, rank: Int, worldSize: Int, into input: UnsafeMutableBufferPointer<Float>, slot: Int) throws -> Int {
        while labels.count <= slot { labels.append([]) }
        return try loader.fill(batch: batch, epoch: epoch, rank: rank, worldSize: worldSize, into: input, labels: &labels[slot])
    }

    func gradients(_ model: any Model, input: UnsafePointer<Float>, count: Int, slot: Int, step: Int) throws -> (loss: Double, correct: Int) {
        try model.gradients(images: input, labels: labels[slot].map(Int.init), height: height, width: width, loss: loss,
                            step: step, checkFinite: false)
    }

    func validate(_ model: any Model, rank: Int, size: Int, world: Communicator?, input: inout [Float]) throws -> TrainJob.Validation {
        let confusion = try ConfusionMatrix.compute(model: model, loader: validation, classes: model.numClasses, rank: rank, size: size,
                                                    world: world, input: &input, labels: &validationLabels)
        let n = confusion.total
        guard n > 0 else { return .init(loss: .nan, accuracy: .nan, perOutput: [Double](repeating: .nan, count: model.numClasses)) }
        return .init(loss: confusion.lossSum / Double(n), accuracy: confusion.accuracy, perOutput: confusion.recall)
    }
}

/// Count regression of whole-image maps (maps.h5; the PL counter's stage 2): mean absolute error
/// against each image's counts. Augmentation: horizontal and vertical flips (counts do not change),
/// drawn from (seed, epoch, row) like the patches' augmentation, so any rank count sees the same.
final class CountTask: TrainingTask {
    let maps: MapsDataset
    /// `--also-train` maps: every image is training data; training rows past the primary file's count
    /// index into them, in order.
    let extra: [MapsDataset]
    let trainRows: [Int], validationRows: [Int]
    let perRank: Int
    let seed: UInt64
    let augment: Bool
    let loss = MeanAbsoluteError()
    private var targets: [[Float]] = []
    private var scratch: [Float]
    /// The visiting orders of one epoch by (rank, world size) (computed once per epoch, as BatchLoader caches them).
    private var orders: (epoch: Int, rows: [[Int]: [Int]]) = (-1, [:])

    init(maps: MapsDataset, extra: [MapsDataset] = [], settings: ResolvedTrainSettings, perRank: Int) {
        self.maps = maps
        self.extra = extra
        var offset = maps.count
        var rows = maps.rows(in: 0)
        for m in extra { rows += (0..<m.count).map { offset + $0 }; offset += m.count }
        trainRows = rows
        validationRows = maps.rows(in: 1)
        self.perRank = perRank; seed = settings.seed; augment = settings.augment
        scratch = [Float](repeating: 0, count: maps.sampleSize)
    }

    var trainCount: Int { trainRows.count }
    var validationCount: Int { validationRows.count }
    var height: Int { maps.height }
    var width: Int { maps.width }
    var channels: Int { maps.channels }
    var outputNames: [String] { maps.countNames }
    var perOutputMetric: String { "val_mae" }
    var validationBatch: Int { 4 }

    func fill(batch: Int, epoch: Int, rank: Int, worldSize: Int, into input: UnsafeMutableBufferPointer<Float>, slot: Int) throws -> Int {
        if orders.epoch != epoch { orders = (epoch, [:]) }
        let order = orders.rows[[rank, worldSize]] ?? BatchLoader.order(trainRows, seed: seed, epoch: epoch, rank: rank, worldSize: worldSize)
        orders.rows[[rank, worldSize]] = order
        let start = batch * perRank, end = min(start + perRank, order.count)
        while targets.count <= slot { targets.append([]) }
        targets[slot].removeAll(keepingCapacity: true)
        guard start < end else { return 0 }
        for (position, row) in order[start..<end].enumerated() {
            let out = UnsafeMutableBufferPointer(rebasing: input[position * maps.sampleSize ..< (position + 1) * maps.sampleSize])
            let (file, local) = source(row)
            if augment {
                try scratch.withUnsafeMutableBufferPointer { try file.readMap(local, into: $0) }
                var rng = SplitMix64(seed: seed, 0x464C_4950, UInt64(epoch), UInt64(row))   // "FLIP"
                flip(scratch, into: out, horizontal: rng.next() & 1 == 1, vertical: rng.next() & 1 == 1)
            } else {
                try file.readMap(local, into: out)
            }
            targets[slot] += local.countsRow(of: file)
        }
        return end - start
    }

    /// The file a training row lives in and its row there.
    private func source(_ row: Int) -> (MapsDataset, Int) {
        var local = row
        if local < maps.count { return (maps, local) }
        local -= maps.count
        for m in extra {
            if local < m.count { return (m, local) }
            local -= m.count
        }
        preconditionFailure("training row \(row) is past every maps file")
    }

    private func flip(_ source: [Float], into out: UnsafeMutableBufferPointer<Float>, horizontal: Bool, vertical: Bool) {
        let (h, w, c) = (maps.height, maps.width, maps.channels)
        for y in 0..<h {
            let sy = vertical ? h - 1 - y : y
            for x in 0..<w {
                let sx = horizontal ? w - 1 - x : x
                for k in 0..<c { out[(y * w + x) * c + k] = source[(sy * w + sx) * c + k] }
            }
        }
    }

    func gradients(_ model: any Model, input: UnsafePointer<Float>, count: Int, slot: Int, step: Int) throws -> (loss: Double, correct: Int) {
        (try model.gradients(images: input, targets: targets[slot], batch: count, height: height, width: width, loss: loss,
                             step: step, checkFinite: false), 0)
    }

    /// Loss: the mean absolute error over images and counts; per output: each count's mean absolute error.
    func validate(_ model: any Model, rank: Int, size: Int, world: Communicator?, input: inout [Float]) throws -> TrainJob.Validation {
        let k = maps.countNames.count
        var sums = [Double](repeating: 0, count: k + 1)   // per-count |error| sums, then the image count
        let mine = stride(from: rank, to: validationRows.count, by: size).map { validationRows[$0] }
        if input.count < validationBatch * maps.sampleSize { input = [Float](repeating: 0, count: validationBatch * maps.sampleSize) }
        for start in stride(from: 0, to: mine.count, by: validationBatch) {
            let rows = Array(mine[start..<min(start + validationBatch, mine.count)])
            try input.withUnsafeMutableBufferPointer { buffer in
                for (slot, row) in rows.enumerated() {
                    try maps.readMap(row, into: UnsafeMutableBufferPointer(rebasing: buffer[slot * maps.sampleSize ..< (slot + 1) * maps.sampleSize]))
                }
            }
            let outputs = input.withUnsafeBufferPointer { model.forward($0.baseAddress!, batch: rows.count, height: height, width: width, training: false) }
            for (slot, row) in rows.enumerated() {
                let truth = row.countsRow(of: maps)
                for j in 0..<k { sums[j] += Double(abs(outputs[slot * k + j] - truth[j])) }
            }
            sums[k] += Double(rows.count)
        }
        if let world, size > 1 { try world.allReduce(&sums, .sum) }
        let n = sums[k]
        guard n > 0 else { return .init(loss: .nan, accuracy: .nan, perOutput: [Double](repeating: .nan, count: k)) }
        let perCount = sums.prefix(k).map { $0 / n }
        return .init(loss: perCount.reduce(0, +) / Double(k), accuracy: .nan, perOutput: perCount)
    }
}

private extension Int {
    func countsRow(of maps: MapsDataset) -> [Float] {
        let k = maps.countNames.count
        return Array(maps.counts[self * k ..< (self + 1) * k])
    }
}

/// The file a run trains on, by task: patches (classification) or maps (count).
enum TrainingData {
    case patches(PatchDataset)
    case maps(MapsDataset, extra: [MapsDataset])

    static func open(_ settings: ResolvedTrainSettings) throws -> TrainingData {
        switch settings.task {
        case .classification:
            if (try? FileHeader.open(settings.data, expecting: MapsFile.format)) != nil {
                throw TrainError("\(settings.data): is a maps file (netosis.maps); train stage 2 on it with --task count")
            }
            return .patches(try PatchDataset(path: settings.data))
        case .count:
            if (try? FileHeader.open(settings.data, expecting: PatchesSchema.format)) != nil {
                throw TrainError("\(settings.data): is a patches file; --task count trains on the maps of `netosis maps`")
            }
            let maps = try MapsDataset(path: settings.data)
            let extra = try (settings.alsoTrain ?? []).map { path in
                if (try? FileHeader.open(path, expecting: PatchesSchema.format)) != nil {
                    throw TrainError("\(path): is a patches file; --also-train takes the maps of `netosis maps`")
                }
                let m = try MapsDataset(path: path)
                guard m.height == maps.height, m.width == maps.width, m.channels == maps.channels, m.countNames == maps.countNames else {
                    throw TrainError("\(path): maps are \(m.height)×\(m.width)×\(m.channels) of \(m.countNames), but \(settings.data) holds "
                                     + "\(maps.height)×\(maps.width)×\(maps.channels) of \(maps.countNames); --also-train needs the same geometry")
                }
                return m
            }
            return .maps(maps, extra: extra)
        }
    }

    var trainCount: Int {
        switch self {
        case let .patches(d): d.rows(in: .train).count
        case let .maps(m, extra): m.rows(in: 0).count + extra.reduce(0) { $0 + $1.count }
        }
    }

    var unit: String { if case .maps = self { "image" } else { "patch" } }

    func task(_ settings: ResolvedTrainSettings, model: ModelConfig, perRank: Int, log: (String) -> Void, rank: Int) throws -> TrainingTask {
        switch self {
        case let .patches(d): try ClassificationTask(dataset: d, settings: settings, model: model, perRank: perRank, log: log, rank: rank)
        case let .maps(m, extra): CountTask(maps: m, extra: extra, settings: settings, perRank: perRank)
        }
    }
}
