import ArgumentParser
import Cluster
import Foundation
import Neural

/// `netosis bench`: model training/inference throughput on random data.
struct Bench: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference throughput of a model (images/s, GFLOP/s, peak RSS, time per layer type).",
        discussion: """
        Runs on random data: warm-up iterations, then timed ones; reports the median. Under mpirun the
        batch is split over ranks, training all-reduces the gradients every step (as data-parallel
        training does), and rank 0 reports the total images/s (e.g. two 1-thread ranks vs one 2-thread
        rank). Throughput on a shared machine varies: compare runs made back to back.
        """)

    @Option(help: "Model name (config/models/NAME.yaml) or a .yaml path.")
    var model = "densenet121"

    @Option(name: .customLong("batch-size"), help: "Images per iteration, over all ranks (each rank runs batch-size / ranks).")
    var batchSize = 32

    @Option(help: "Timed iterations (the median is reported).")
    var iterations = 8

    @Option(help: "Untimed warm-up iterations.")
    var warmup = 2

    @Option(help: "OpenBLAS threads per rank (default: what OpenBLAS chose).")
    var threads: Int?

    @Option(name: .customLong("input-channels"), help: "Override the model's input channels (3 matches torchvision's benchmark).")
    var inputChannels: Int?

    @Option(help: "What to measure: train, infer or both.")
    var mode = "both"

    @Option(help: "Also write the result as JSON to this file.")
    var json: String?

    func run(on world: Communicator) throws {
        guard ["train", "infer", "both"].contains(mode) else {
            throw ValidationError("--mode must be train, infer or both (got \(mode))")
        }
        if let threads { BLAS.threads = threads; Parallel.refresh() }
        var config = try DenseNetConfig.load(model)
        if let inputChannels { config.inputChannels = inputChannels }
        let log: (String) -> Void = { message in
            if world.isRoot { FileHandle.standardError.write(Data("bench: \(message)\n".utf8)) }
        }
        guard batchSize % world.size == 0, batchSize >= world.size else {
            throw ValidationError("--batch-size \(batchSize) does not split over \(world.size) ranks")
        }
        var gradients: GradientBuffer?
        let allReduce: (([Parameter]) throws -> Void)? = world.size == 1 ? nil : { parameters in
            // One flat in-place all-reduce of every gradient, then the mean.
            if gradients == nil { gradients = GradientBuffer(parameters: parameters) }
            let g = gradients!
            g.pack()
            try world.allReduce(g.buffer, .sum)
            g.unpack(scale: 1 / Float(world.size))
        }
        let result = try Benchmark.run(config: config, batch: batchSize / world.size, iterations: iterations,
                                       warmup: warmup, train: mode != "infer", infer: mode != "train",
                                       gradientHook: allReduce, log: log)
        let all = try world.allGather(result)
        guard world.isRoot else { return }
        var report = result
        if all.count > 1 {
            // Throughput and memory add over ranks; the other ranks' own CPU is not foreign load.
            report.batch = batchSize
            report.ranks = all.count
            report.trainImagesPerSecond = result.trainImagesPerSecond.map { _ in all.compactMap(\.trainImagesPerSecond).reduce(0, +) }
            report.inferImagesPerSecond = result.inferImagesPerSecond.map { _ in all.compactMap(\.inferImagesPerSecond).reduce(0, +) }
            report.trainGFLOPS = report.trainImagesPerSecond.map { $0 * result.gflopPerTrainImage }
            report.inferGFLOPS = report.inferImagesPerSecond.map { $0 * result.gflopPerInferImage }
            report.trainPeakRSSMB = result.trainPeakRSSMB.map { _ in all.compactMap(\.trainPeakRSSMB).reduce(0, +) }
            report.inferPeakRSSMB = result.inferPeakRSSMB.map { _ in all.compactMap(\.inferPeakRSSMB).reduce(0, +) }
            let othersTrain = all.dropFirst().compactMap(\.ownCoresTrain).reduce(0, +)
            let othersInfer = all.dropFirst().compactMap(\.ownCoresInfer).reduce(0, +)
            report.foreignCoresTrain = result.foreignCoresTrain.map { max(0, $0 - othersTrain) }
            report.foreignCoresInfer = result.foreignCoresInfer.map { max(0, $0 - othersInfer) }
        }
        print(Benchmark.text(report))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
    }
}
