import Foundation
import Storage

/// predictions.h5 (`netosis infer --out`): /logits and /probs float32 [N, classes], row i for
/// patch i of the input; root attributes: the `FileHeader` (its `config` is `RunConfig` as JSON),
/// `checkpoint` and `normalization`. Written atomically; `read` is its reader.
public enum PredictionsFile {
    /// Version 1. Only additive changes keep older versions readable.
    public static let format = FileFormat(name: "netosis.predictions", version: 1, madeBy: "netosis infer")

    /// What produced a predictions file, stored as its `config` attribute (JSON).
    public struct RunConfig: Codable, Sendable {
        public var model: DenseNetConfig
        public var normalization: String
        public var batchSize: Int
        public var patches: String

        public init(model: DenseNetConfig, normalization: PatchNormalization, batchSize: Int, patches: String) {
            self.model = model; self.normalization = normalization.rawValue
            self.batchSize = batchSize; self.patches = patches
        }
    }

    /// Class scores of N patches, row-major [N, classes].
    public struct Contents: Sendable {
        public var header: FileHeader
        public var classes: Int
        public var logits: [Float]
        public var probs: [Float]
        public var count: Int { classes > 0 ? logits.count / classes : 0 }
    }

    /// Writes /logits and /probs [N, classes] to a checked output (see `OutputFile`).
    public static func write(to output: OutputFile, logits: [Float], classes: Int, checkpoint: String, config: RunConfig) throws {
        try write(path: output.path, logits: logits, classes: classes, checkpoint: checkpoint, config: config)
    }

    /// Writes /logits and /probs [N, classes] atomically, with provenance attributes.
    public static func write(path: String, logits: [Float], classes: Int, checkpoint: String, config: RunConfig) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let configJSON = String(decoding: try encoder.encode(config), as: UTF8.self)
        let n = logits.count / classes
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(temporary)
            try FileHeader(format, config: configJSON).write(to: file)
            try file.setAttribute("checkpoint", checkpoint)
            try file.setAttribute("normalization", config.normalization)
            try file.write("logits", logits, shape: [n, classes])
            try file.write("probs", PatchClassifier.probabilities(logits, classes: classes), shape: [n, classes])
            try file.flush()
        }
    }

    public static func read(_ path: String) throws -> Contents {
        let (file, header) = try FileHeader.open(path, expecting: format)
        do {
            let shape = try file.dataset("logits").shape()
            guard shape.count == 2, try file.dataset("probs").shape() == shape else {
                throw FileFormatError(path: path, problem: "/logits and /probs must both be [N, classes]")
            }
            return Contents(header: header, classes: shape[1], logits: try file.read("logits"), probs: try file.read("probs"))
        } catch let error as FileFormatError {
            throw error
        } catch {
            throw FileFormatError(path: path, problem: "not a complete predictions file: \(error)")
        }
    }
}
