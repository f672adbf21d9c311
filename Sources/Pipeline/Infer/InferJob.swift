import Cluster
import Foundation
import Imaging
import Neural
import Storage

/// Settings of one `netosis infer` run.
public struct InferOptions: Sendable {
    public var checkpoint: String
    /// HDF5 file with /patches [N,H,W] or [N,C,H,W]: a netosis.patches file, or any file without a
    /// `format` attribute (patches from other tools).
    public var patches: String
    public var output: String
    public var batchSize: Int
    public var normalization: PatchNormalization
    /// Replace an existing predictions file (never another kind of file).
    public var overwrite: Bool

    public init(checkpoint: String, patches: String, output: String, batchSize: Int = 64,
                normalization: PatchNormalization = .zscore, overwrite: Bool = false) {
        self.checkpoint = checkpoint; self.patches = patches; self.output = output
        self.batchSize = batchSize; self.normalization = normalization; self.overwrite = overwrite
    }
}

/// `netosis infer`: class logits and probabilities for every patch of a file (predictions.h5).
public enum InferJob {
    /// Rank r classifies the r-th contiguous share of the patches; rank 0 gathers the logits in
    /// order and writes OUT atomically, so the output is the same for any rank count.
    /// Returns the number of patches classified (rank 0; 0 elsewhere).
    @discardableResult
    public static func run(_ options: InferOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> Int {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        // The output is checked before any work (rank 0 writes it; its error aborts every rank).
        let output = rank == 0
            ? try OutputFile.check(options.output, kind: "predictions file (\(PredictionsFile.format.name))",
                                   inputs: [options.checkpoint, options.patches], overwrite: options.overwrite) {
                PredictionsFile.format.isFormat(of: $0)
              }
            : nil
        let model = try WeightIO.loadModel(path: options.checkpoint)
        try checkMemory(model, batchSize: options.batchSize, world: world)
        let classifier = PatchClassifier(model: model, normalization: options.normalization, batchSize: options.batchSize)
        let file = try openPatches(options.patches)
        let total = try classifier.layout(of: file, path: options.patches).count
        let lower = total * rank / size, upper = total * (rank + 1) / size
        let started = Date()
        let scores = try classifier.classify(file: file, path: options.patches, range: lower..<upper) { done in
            progress(min(total, done * size), total)  // rank 0 speaks for all
        }
        let classes = model.numClasses
        var all = scores
        if let world, size > 1 {
            guard let logitParts = try world.gather(bytes: scores.logits.withUnsafeBytes { Array($0) }) else {
                _ = try world.gather(bytes: scores.valid)
                return 0
            }
            all.logits = []
            all.logits.reserveCapacity(total * classes)
            for part in logitParts { part.withUnsafeBytes { all.logits += $0.bindMemory(to: Float.self) } }
            all.valid = try world.gather(bytes: scores.valid)!.flatMap { $0 }
        }
        let excluded = all.valid.indices.filter { all.valid[$0] == 0 }
        if !excluded.isEmpty {
            let rows = excluded.prefix(5).map(String.init).joined(separator: ", ") + (excluded.count > 5 ? ", …" : "")
            warn("\(options.patches): \(excluded.count) of \(total) patches hold non-finite values (NaN/Inf) and were not "
                 + "classified (rows \(rows)); /valid marks them 0 in \(options.output)")
        }
        try FaultPoint.pass("infer-write")
        try PredictionsFile.write(to: output!, logits: all.logits, valid: all.valid, classes: classes,
                                  checkpoint: options.checkpoint,
                                  config: .init(model: model.modelConfig, normalization: options.normalization,
                                                batchSize: options.batchSize, patches: options.patches))
        log("infer: \(total) patches → \(options.output) (/logits, /probs [\(total), \(classes)]) in "
            + String(format: "%.1f s", Date().timeIntervalSince(started)))
        return total
    }

    /// Refuses a batch whose buffers exceed this rank's memory budget, before any is allocated:
    /// the network's activations plus the batch as read and as fed (float32 each).
    static func checkMemory(_ model: any Model, batchSize: Int, world: Communicator?) throws {
        let config = model.modelConfig, s = config.inputSize
        // Every thread's model replica holds a batch of its own.
        let replicas = Double(ThreadTeam.shared.size)
        try MemoryBudget.current(world: world).check(batchSize: batchSize, for: "\(config.name) at \(s)×\(s)") { batch in
            replicas * (model.memoryBytes(batch: batch, height: s, width: s, training: false) + 2 * 4 * Double(batch) * Double(s * s * config.inputChannels))
        }
    }

    /// A netosis patches file (header checked), or a foreign HDF5 file with /patches and no `format`.
    static func openPatches(_ path: String) throws -> HDF5File {
        guard FileManager.default.fileExists(atPath: path) else { throw FileFormatError(path: path, problem: "no such file") }
        let file: HDF5File
        do { file = try HDF5File.open(path, mode: .readOnly) } catch {
            throw FileFormatError(path: path, problem: "not a readable HDF5 file; expected patches (\((error as? HDF5Error)?.problem ?? "\(error)"))")
        }
        if file.hasAttribute("format") { _ = try FileHeader.read(file, path: path, expecting: PatchesSchema.format) }
        return file
    }
}
