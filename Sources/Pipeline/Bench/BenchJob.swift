import Cluster
import Foundation
import Neural
import Storage

/// What `netosis bench` measures.
public enum BenchMode: String, CaseIterable, Codable, Sendable {
    case train, infer, both
    /// A sequential window network over a whole 512×672 field: the sliding-window pass vs one
    /// forward per window (`WindowPassBench`).
    case windows
}

/// Settings of one `netosis bench` run.
public struct BenchOptions: Sendable {
    /// config/models/NAME.yaml or a .yaml path.
    public var model: String
    /// Images per iteration over all ranks.
    public var batchSize: Int
    public var iterations: Int
    public var warmup: Int
    /// Threads per rank: the thread team and OpenBLAS (nil: the cores the process owns, CoreBudget).
    public var threads: Int?
    public var inputChannels: Int?
    public var mode: BenchMode
    /// Also write the report as JSON here.
    public var json: String?
    /// Replace an existing bench JSON (never another kind of file).
    public var overwrite: Bool

    public init(model: String = "densenet121", batchSize: Int = 32, iterations: Int = 8, warmup: Int = 2,
                threads: Int? = nil, inputChannels: Int? = nil, mode: BenchMode = .both, json: String? = nil,
                overwrite: Bool = false) {
        self.model = model; self.batchSize = batchSize; self.iterations = iterations; self.warmup = warmup
        self.threads = threads; self.inputChannels = inputChannels; self.mode = mode; self.json = json
        self.overwrite = overwrite
    }
}

/// `netosis bench`: training and inference throughput of a model on random data.
public enum BenchJob {
    /// Each rank runs batch-size / ranks images; training all-reduces the gradients every step, as
    /// data-parallel training does. Rank 0 returns the job's report (throughput and memory summed
    /// over ranks); other ranks return nil.
    @discardableResult
    public static func run(_ options: BenchOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> BenchmarkResult? {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let jsonOutput = rank == 0
            ? try options.json.map { path in
                try OutputFile.check(path, kind: "netosis bench report (JSON)", inputs: [], overwrite: options.overwrite) {
                    (try? JSONDecoder().decode(BenchmarkResult.self, from: Data(contentsOf: URL(fileURLWithPath: $0)))) != nil
                }
              }
            : nil
        if let threads = options.threads { BLAS.threads = threads; ThreadTeam.resize(threads) }
        if options.mode == .windows {
            guard size == 1 else { throw NeuralError.badInput("--mode windows runs on one rank (it times one field)") }
            guard options.json == nil else { throw NeuralError.badInput("--mode windows writes no --json report; its lines are the result") }
            try WindowPassBench.run(options, log: log)
            return nil
        }
        let config = try ModelConfig.load(options.model).with(inputChannels: options.inputChannels)
        guard options.batchSize % size == 0, options.batchSize >= size else {
            throw NeuralError.badInput("--batch-size \(options.batchSize) does not split over \(size) ranks")
        }
        // Checked before the model and the random images are made (batch / ranks images per rank).
        let model = try config.makeModel(seed: 0)
        let (h, w) = (config.inputSize, config.inputWidth), training = options.mode != .infer
        try MemoryBudget.current(world: world).check(batchSize: options.batchSize, ranksSharingBatch: size,
                                                     for: "\(config.name) at \(h)×\(w)") { batch in
            model.memoryBytes(batch: batch, height: h, width: w, training: training)
                + 4 * Double(batch) * Double(h * w * config.inputChannels)
        }
        // As `train` exchanges gradients (overlapped with backward for one replica per rank).
        let exchange = size == 1 ? nil : GradientExchange(model: model, world: world!,
                                                          replicas: TrainJob.replicaCount(perRank: options.batchSize / size,
                                                                                          team: ThreadTeam.shared.size))
        let allReduce: (([Parameter]) throws -> Void)? = exchange.map { exchange in { _ in try exchange.finish() } }
        let status: (String) -> Void = { message in if rank == 0 { log("bench: \(message)") } }
        let result = try Benchmark.run(config: config, batch: options.batchSize / size, iterations: options.iterations,
                                       warmup: options.warmup, train: options.mode != .infer, infer: options.mode != .train,
                                       gradientHook: allReduce, model: model, log: status)
        let all = try world?.allGather(result) ?? [result]
        guard rank == 0 else { return nil }
        var report = result
        if all.count > 1 {
            // Throughput and memory add over ranks; the other ranks' own CPU is not foreign load.
            report.batch = options.batchSize
            report.ranks = all.count
            report.trainImagesPerSecond = result.trainImagesPerSecond.map { _ in all.compactMap(\.trainImagesPerSecond).reduce(0, +) }
            report.inferImagesPerSecond = result.inferImagesPerSecond.map { _ in all.compactMap(\.inferImagesPerSecond).reduce(0, +) }
            report.trainGFLOPS = report.trainImagesPerSecond.map { $0 * result.gflopPerTrainImage }
            report.inferGFLOPS = report.inferImagesPerSecond.map { $0 * result.gflopPerInferImage }
            report.sgemmGFLOPS = result.sgemmGFLOPS.map { _ in all.compactMap(\.sgemmGFLOPS).reduce(0, +) }
            report.trainPeakRSSMB = result.trainPeakRSSMB.map { _ in all.compactMap(\.trainPeakRSSMB).reduce(0, +) }
            report.inferPeakRSSMB = result.inferPeakRSSMB.map { _ in all.compactMap(\.inferPeakRSSMB).reduce(0, +) }
            let othersTrain = all.dropFirst().compactMap(\.ownCoresTrain).reduce(0, +)
            let othersInfer = all.dropFirst().compactMap(\.ownCoresInfer).reduce(0, +)
            report.foreignCoresTrain = result.foreignCoresTrain.map { max(0, $0 - othersTrain) }
            report.foreignCoresInfer = result.foreignCoresInfer.map { max(0, $0 - othersInfer) }
        }
        log(Benchmark.text(report))
        if let jsonOutput {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(report)
            try jsonOutput.write { try AtomicFile.writeBytes(data, to: $0) }
        }
        return report
    }
}
