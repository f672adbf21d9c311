import ArgumentParser
import Cluster
import Neural
import Pipeline

extension PatchNormalization: ExpressibleByArgument {}

/// `netosis infer`: class logits and probabilities for a patches file.
struct Infer: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify patches with a checkpoint: writes /logits and /probs [N, classes].",
        discussion: """
        IN.h5 holds /patches as [N,H,W] or [N,C,H,W], uint16 or float32, H = W = the model's input size: \
        a patches.h5 from `netosis prepare`, or any HDF5 file without a `format` attribute. \
        Each patch is z-scored on its own (mean 0, standard deviation 1) before classification, as the \
        paper's pipeline did; `--normalize none` feeds raw values (only for checkpoints trained that way). \
        Under mpirun the patches are split over ranks and rank 0 writes OUT.h5 (atomically). \
        Fastest on a multi-core node: one rank per core, e.g. `mpirun -np 2 netosis infer ...` \
        (measured 1.1× PyTorch on 2 cores, vs 0.5–0.8× for one rank with 2 threads; docs/benchmarks.md).
        """)

    @Option(help: "Checkpoint file (netosis.checkpoint: /model weights and config).")
    var checkpoint: String

    @Option(help: "Input HDF5 file with /patches.")
    var patches: String

    @Option(help: "Output HDF5 file (/logits, /probs).")
    var out: String

    @Option(help: "Patches per forward pass; 1…65536.")
    var batchSize = 64

    @Flag(help: "Replace an existing predictions file written by netosis infer (other files are never replaced).")
    var overwrite = false

    @Option(help: "Per-patch normalisation: \(PatchNormalization.allCases.map(\.rawValue).joined(separator: " or ")).")
    var normalize: PatchNormalization = .zscore

    func validate() throws {
        try requireFlag("--batch-size", batchSize, in: 1...65536)
    }

    func run(on world: Communicator) throws {
        let options = InferOptions(checkpoint: checkpoint, patches: patches, output: out, batchSize: batchSize,
                                   normalization: normalize, overwrite: overwrite)
        let console = Console("infer", world: world)
        try InferJob.run(options, world: world, log: console.log, warn: console.warn, progress: console.progress)
    }
}
