import Cluster
import Foundation
import Imaging
import Neural
import Storage

/// Which patches `evaluate` scores.
public enum EvaluateSplit: String, CaseIterable, Codable, Sendable {
    case test, val, train, all
    var split: PatchSplit? {
        switch self { case .test: .test; case .val: .val; case .train: .train; case .all: nil }
    }
}

/// Settings of one `netosis evaluate` run.
public struct EvaluateOptions: Sendable {
    public var checkpoint: String
    public var data: String
    public var split: EvaluateSplit
    public var json: String?
    public var batchSize: Int
    public var overwrite: Bool
    /// Tiles files: per-tile and per-image predictions (results.h5 family, `task: image-classification`).
    public var predictions: String?

    public init(checkpoint: String, data: String, split: EvaluateSplit = .test, json: String? = nil,
                batchSize: Int = 64, overwrite: Bool = false, predictions: String? = nil) {
        self.checkpoint = checkpoint; self.data = data; self.split = split; self.json = json
        self.batchSize = batchSize; self.overwrite = overwrite; self.predictions = predictions
    }
}

/// What `evaluate` reports (and writes as JSON).
public struct EvaluationReport: Codable, Sendable {
    public var checkpoint: String
    public var data: String
    public var split: String
    public var classes: [String]
    public var samples: Int
    /// [true][predicted] counts.
    public var confusion: [[Int]]
    /// Each row divided by its sum (recall on the diagonal); null for a class without samples.
    public var confusionRowNormalized: [[Double?]]
    public var accuracy: Double?
    public var balancedAccuracy: Double?
    public var precision: [Double?]
    public var recall: [Double?]
    public var f1: [Double?]
    public var support: [Int]
    public var loss: Double?
    /// Tiles of whole images (a tiles file): the images' verdicts from their tiles.
    public var imageLevel: ImageLevelReport?

    init(matrix m: ConfusionMatrix, options: EvaluateOptions, classes: [String]) {
        func opt(_ x: Double) -> Double? { x.isNaN ? nil : x }
        checkpoint = options.checkpoint; data = options.data; split = options.split.rawValue; self.classes = classes
        samples = m.total
        confusion = (0..<m.classes).map { t in (0..<m.classes).map { m.count(truth: t, predicted: $0) } }
        confusionRowNormalized = m.rowNormalized.map { $0.map(opt) }
        accuracy = opt(m.accuracy); balancedAccuracy = opt(m.balancedAccuracy)
        precision = m.precision.map(opt); recall = m.recall.map(opt); f1 = m.f1.map(opt)
        support = (0..<m.classes).map(m.support)
        loss = m.total == 0 ? nil : m.lossSum / Double(m.total)
    }

    /// The table printed on the terminal.
    public var text: String {
        func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "—" }
        let width = max(12, (classes.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
        var lines = ["evaluate: \(samples) patches (split \(split)) of \(data) with \(checkpoint)",
                     "confusion matrix (rows: true class, columns: predicted; counts | row-normalised)"]
        lines.append(pad("") + classes.map(pad).joined() + "| " + classes.map(pad).joined())
        for (t, name) in classes.enumerated() {
            lines.append(pad(name) + confusion[t].map { pad(String($0)) }.joined() + "| "
                         + confusionRowNormalized[t].map { pad(f($0)) }.joined())
        }
        lines.append(pad("class") + ["precision", "recall", "F1", "support"].map(pad).joined())
        for (c, name) in classes.enumerated() {
            lines.append(pad(name) + [f(precision[c]), f(recall[c]), f(f1[c]), String(support[c])].map(pad).joined())
        }
        lines.append("accuracy \(f(accuracy))  balanced accuracy \(f(balancedAccuracy))  loss \(f(loss))")
        if let imageLevel { lines += imageLevel.lines(classes: classes) }
        return lines.joined(separator: "\n")
    }
}

extension ConfusionMatrix {
    /// Runs `model` (inference mode) over the loader's split; rank r takes every N-th patch from r
    /// (no padding), the counts are summed over ranks, so every patch counts exactly once.
    /// `onBatch` sees each batch's dataset rows and logits (valid during the call).
    static func compute(model: any Model, loader: BatchLoader, classes: Int, rank: Int, size: Int, world: Communicator?,
                        input: inout [Float], labels: inout [Int32],
                        onBatch: ((ArraySlice<Int>, UnsafePointer<Float>) -> Void)? = nil) throws -> ConfusionMatrix {
        var matrix = ConfusionMatrix(classes: classes)
        let (h, w) = (loader.dataset.height, loader.dataset.width)
        if input.count < loader.batchSize * loader.sampleSize { input = [Float](repeating: 0, count: loader.batchSize * loader.sampleSize) }
        // The rank's rows in visiting order, computed once (the loader uses the same order).
        let order = onBatch == nil ? [] : loader.indices(for: 0, rank: rank, worldSize: size)
        for b in 0..<loader.batchCount(rank: rank, worldSize: size) {
            let n = try input.withUnsafeMutableBufferPointer {
                try loader.fill(batch: b, epoch: 0, rank: rank, worldSize: size, into: $0, labels: &labels)
            }
            guard n > 0 else { continue }
            let logits = input.withUnsafeBufferPointer { model.forward($0.baseAddress!, batch: n, height: h, width: w, training: false) }
            matrix.add(logits: logits, labels: labels.map(Int.init))
            onBatch?(order[(b * loader.batchSize)..<(b * loader.batchSize + n)], logits)
        }
        if let world, size > 1 {
            var values = matrix.counts.map(Double.init) + [matrix.lossSum]
            try world.allReduce(&values, .sum)
            matrix.counts = values.dropLast().map { Int($0) }
            matrix.lossSum = values.last!
        }
        return matrix
    }
}

/// `netosis evaluate`: confusion matrix and per-class metrics of a checkpoint on a split of patches.h5.
public enum EvaluateJob {
    @discardableResult
    public static func run(_ options: EvaluateOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> EvaluationReport? {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let output = rank == 0
            ? try options.json.map { path in
                try OutputFile.check(path, kind: "netosis evaluate report (JSON)", inputs: [options.checkpoint, options.data],
                                     overwrite: options.overwrite) {
                    (try? JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: URL(fileURLWithPath: $0)))) != nil
                }
              }
            : nil
        let model = try WeightIO.loadModel(path: options.checkpoint)
        let dataset = try PatchDataset(path: options.data)
        guard dataset.classNames.count == model.numClasses else {
            throw TrainError("\(options.data): holds \(dataset.classNames.count) classes but the checkpoint's model has \(model.numClasses)")
        }
        let sizeMatches = model.modelConfig.acceptsAnyInputSize || (dataset.height == model.inputSize && dataset.width == model.inputWidth)
        guard sizeMatches, dataset.channels == model.inputChannels else {
            throw TrainError("\(options.data): samples are \(dataset.height)×\(dataset.width)×\(dataset.channels) but model '\(model.name)' expects "
                             + "\(model.inputSize)×\(model.inputWidth)×\(model.inputChannels)")
        }
        let loader = BatchLoader(dataset: dataset, split: options.split.split, batchSize: options.batchSize, seed: 0,
                                 augment: false, shuffle: false, padShards: false,
                                 normalization: try .of(model.modelConfig, for: dataset))
        guard !loader.rows.isEmpty else { throw TrainError("\(options.data): the \(options.split.rawValue) split holds no patches") }
        var input: [Float] = [], labels: [Int32] = []
        let k = model.numClasses
        var tiles = TileProbabilities(classes: k)
        let wholeImages = dataset.task == "image-classification"
        let matrix = try ConfusionMatrix.compute(model: model, loader: loader, classes: k, rank: rank, size: size,
                                                 world: world, input: &input, labels: &labels) { rows, logits in
            if wholeImages { tiles.add(rows: rows, logits: logits) }
        }
        if wholeImages, let world, size > 1 { tiles = TileProbabilities.merge(try world.allGather(tiles), classes: k) }
        guard rank == 0 else { return nil }
        var report = EvaluationReport(matrix: matrix, options: options, classes: dataset.classNames)
        if wholeImages {
            let images = ImageVerdicts(tiles: tiles, dataset: dataset)
            report.imageLevel = ImageLevelReport(images, classes: k, fieldNames: Array(Set(dataset.fields.flatMap(\.keys))).sorted())
            if let path = options.predictions {
                let out = try OutputFile.check(path, kind: "image-classification results (netosis.results)", inputs: [options.checkpoint, options.data],
                                               overwrite: options.overwrite) { ResultsFile.format.isFormat(of: $0) }
                let (imageCalls, tileCalls) = images.calls(tiles: tiles, dataset: dataset)
                try out.write {
                    try ImageResultsFile.write(images: imageCalls, tiles: tileCalls, classes: dataset.classNames, checkpoint: options.checkpoint,
                                               config: ["checkpoint": options.checkpoint, "data": options.data, "split": options.split.rawValue],
                                               to: $0)
                }
            }
        }
        log(report.text)
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(report)
            try output.write { try AtomicFile.writeBytes(data, to: $0) }
        }
        return report
    }
}
