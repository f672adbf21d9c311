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

    public init(checkpoint: String, data: String, split: EvaluateSplit = .test, json: String? = nil,
                batchSize: Int = 64, overwrite: Bool = false) {
        self.checkpoint = checkpoint; self.data = data; self.split = split; self.json = json
        self.batchSize = batchSize; self.overwrite = overwrite
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
        return lines.joined(separator: "\n")
    }
}

extension ConfusionMatrix {
    /// Runs `model` (inference mode) over the loader's split; rank r takes every N-th patch from r
    /// (no padding), the counts are summed over ranks, so every patch counts exactly once.
    static func compute(model: any Model, loader: BatchLoader, classes: Int, rank: Int, size: Int, world: Communicator?,
                        input: inout [Float], labels: inout [Int32]) throws -> ConfusionMatrix {
        var matrix = ConfusionMatrix(classes: classes)
        let s = loader.dataset.patchSize
        if input.count < loader.batchSize * s * s { input = [Float](repeating: 0, count: loader.batchSize * s * s) }
        for b in 0..<loader.batchCount(rank: rank, worldSize: size) {
            let n = try input.withUnsafeMutableBufferPointer {
                try loader.fill(batch: b, epoch: 0, rank: rank, worldSize: size, into: $0, labels: &labels)
            }
            guard n > 0 else { continue }
            let logits = input.withUnsafeBufferPointer { model.forward($0.baseAddress!, batch: n, height: s, width: s, training: false) }
            matrix.add(logits: logits, labels: labels.map(Int.init))
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
        guard dataset.patchSize == model.inputSize, model.inputChannels == 1 else {
            throw TrainError("\(options.data): patches are \(dataset.patchSize)×\(dataset.patchSize) but model '\(model.name)' expects "
                             + "\(model.inputSize)×\(model.inputSize)×\(model.inputChannels)")
        }
        let loader = BatchLoader(dataset: dataset, split: options.split.split, batchSize: options.batchSize, seed: 0,
                                 augment: false, shuffle: false, padShards: false,
                                 normalization: try .of(model.modelConfig, for: dataset))
        guard !loader.rows.isEmpty else { throw TrainError("\(options.data): the \(options.split.rawValue) split holds no patches") }
        var input: [Float] = [], labels: [Int32] = []
        let matrix = try ConfusionMatrix.compute(model: model, loader: loader, classes: model.numClasses, rank: rank, size: size,
                                                 world: world, input: &input, labels: &labels)
        guard rank == 0 else { return nil }
        let report = EvaluationReport(matrix: matrix, options: options, classes: dataset.classNames)
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
