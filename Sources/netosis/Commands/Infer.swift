import ArgumentParser
import Cluster
import Foundation
import Neural
import Storage

/// `netosis infer`: class logits and probabilities for a patches file.
struct Infer: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify patches with a checkpoint: writes /logits and /probs [N, classes].",
        discussion: """
        IN.h5 holds /patches as [N,H,W] or [N,C,H,W], uint16 or float32, H = W = the model's input size.
        Each patch is z-scored on its own (mean 0, standard deviation 1) before classification, as the
        paper's pipeline did; `--normalize none` feeds raw values (only for checkpoints trained that way).
        Under mpirun the patches are split over ranks and rank 0 writes OUT.h5 (atomically).
        Fastest on a multi-core node: one rank per core, e.g. `mpirun -np 2 netosis infer ...`
        (measured 1.1× PyTorch on 2 cores, vs 0.5–0.8× for one rank with 2 threads; docs/benchmarks.md).
        """)

    @Option(help: "Checkpoint file (netosis.checkpoint: /model weights and config).")
    var checkpoint: String

    @Option(help: "Input HDF5 file with /patches.")
    var patches: String

    @Option(help: "Output HDF5 file (/logits, /probs).")
    var out: String

    @Option(name: .customLong("batch-size"), help: "Patches per forward pass.")
    var batchSize = 64

    @Option(help: "Per-patch normalisation: zscore or none.")
    var normalize = "zscore"

    func run(on world: Communicator) throws {
        guard let normalization = PatchNormalization(rawValue: normalize) else {
            throw ValidationError("--normalize must be zscore or none (got \(normalize))")
        }
        let model = try WeightIO.loadModel(path: checkpoint)
        let classifier = PatchClassifier(model: model, normalization: normalization, batchSize: batchSize)
        let file: HDF5File
        do { file = try HDF5File.open(patches, mode: .readOnly) }
        catch { throw NeuralError.badInput("\(patches): cannot open patches file (\(error))") }
        let total = try classifier.layout(of: file, path: patches).count
        let lower = total * world.rank / world.size, upper = total * (world.rank + 1) / world.size
        let started = Date()
        var lastReport = Date()
        let logits = try classifier.logits(file: file, path: patches, range: lower..<upper) { done in
            guard world.isRoot, Date().timeIntervalSince(lastReport) > 10 || done == upper - lower else { return }
            lastReport = Date()
            let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-9)
            FileHandle.standardError.write(Data(String(format: "infer: %d/%d patches on rank 0 (%.0f patches/s)\n",
                                                       done, upper - lower, rate).utf8))
        }
        let classes = model.config.numClasses
        let bytes = logits.withUnsafeBytes { Array($0) }
        guard let parts = try world.gather(bytes: bytes) else { return }
        var all: [Float] = []
        all.reserveCapacity(total * classes)
        for part in parts {
            part.withUnsafeBytes { all += $0.bindMemory(to: Float.self) }
        }
        try PatchClassifier.writePredictions(path: out, logits: all, classes: classes, checkpoint: checkpoint,
                                             normalization: normalization, toolVersion: NetosisVersion.string,
                                             config: .init(model: model.config, normalization: normalization,
                                                           batchSize: batchSize, patches: patches))
        print("infer: \(total) patches → \(out) (/logits, /probs [\(total), \(classes)]) in "
              + String(format: "%.1f s", Date().timeIntervalSince(started)))
    }
}
