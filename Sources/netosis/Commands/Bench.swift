import ArgumentParser
import Cluster
import Pipeline

extension BenchMode: ExpressibleByArgument {}

/// `netosis bench`: model training/inference throughput on random data.
struct Bench: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference throughput of a model (images/s, GFLOP/s, peak RSS, time per layer type).",
        discussion: """
        Runs on random data: warm-up iterations, then timed ones; reports the median. Under mpirun the \
        batch is split over ranks, training all-reduces the gradients every step (as data-parallel \
        training does), and rank 0 reports the total images/s (e.g. two 1-thread ranks vs one 2-thread \
        rank). Throughput on a shared machine varies: compare runs made back to back.
        """)

    @Option(help: "Model name (config/models/NAME.yaml) or a .yaml path.")
    var model = "densenet121"

    @Option(help: "Images per iteration, over all ranks (each rank runs batch-size / ranks); 1…4096.")
    var batchSize = 32

    @Option(help: "Timed iterations (the median is reported); 1…10000.")
    var iterations = 8

    @Option(help: "Untimed warm-up iterations; 0…10000.")
    var warmup = 2

    @Option(help: "Threads per rank (thread team and OpenBLAS), 1…1024 (default: the cores the process owns).")
    var threads: Int?

    @Option(help: "Override the model's input channels, 1…16 (3 matches torchvision's benchmark).")
    var inputChannels: Int?

    @Option(help: "What to measure: \(BenchMode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var mode: BenchMode = .both

    @Option(help: "Also write the result as JSON to this file.")
    var json: String?

    @Flag(help: "Replace an existing --json file written by netosis bench (other files are never replaced).")
    var overwrite = false

    func validate() throws {
        try requireFlag("--batch-size", batchSize, in: 1...4096)
        try requireFlag("--iterations", iterations, in: 1...10_000)
        try requireFlag("--warmup", warmup, in: 0...10_000)
        try requireFlag("--threads", threads, in: 1...1024)
        try requireFlag("--input-channels", inputChannels, in: 1...16)
    }

    func run(on world: Communicator) throws {
        let options = BenchOptions(model: model, batchSize: batchSize, iterations: iterations, warmup: warmup,
                                   threads: threads, inputChannels: inputChannels, mode: mode, json: json, overwrite: overwrite)
        let console = Console("bench", world: world)
        try BenchJob.run(options, world: world, log: console.log, warn: console.warn, progress: console.progress)
    }
}
