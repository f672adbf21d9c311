import Foundation
import Storage

/// predictions.h5 (`netosis infer --out`): /logits and /probs float32 [N, classes], row i for
/// patch i of the input, and /valid uint8 [N] (0: the patch held NaN/Inf, its rows are NaN); root attributes: the `FileHeader` (its `config` is `RunConfig` as JSON),
/// `checkpoint` and `normalization`. Written atomically; `read` is its reader.
public enum PredictionsFile {
    /// Version 2 added /valid (version 1, without it, reads as all valid). Only additive changes
    /// keep older versions readable.
    public static let format = FileFormat(name: "netosis.predictions", version: 2, oldestReadable: 1, madeBy: "netosis infer")

    /// What produced a predictions file, stored as its `config` attribute (JSON).
    public struct RunConfig: Codable, Sendable {
        public var model: ModelConfig
        public var normalization: String
        public var batchSize: Int
        public var patches: String

        public init(model: ModelConfig, normalization: PatchNormalization, batchSize: Int, patches: String) {
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
        /// 1 classified, 0 not (the patch held non-finite values); one per row.
        public var valid: [UInt8]
        public var count: Int { classes > 0 ? logits.count / classes : 0 }
    }

    /// Writes /logits, /probs [N, classes] and /valid [N] to a checked output (see `OutputFile`).
    public static func write(to output: OutputFile, logits: [Float], valid: [UInt8]? = nil, classes: Int,
                             checkpoint: String, config: RunConfig) throws {
        try write(path: output.path, logits: logits, valid: valid, classes: classes, checkpoint: checkpoint, config: config)
    }

    /// Writes /logits, /probs [N, classes] and /valid [N] (nil: all valid) atomically, with provenance attributes.
    public static func write(path: String, logits: [Float], valid: [UInt8]? = nil, classes: Int,
                             checkpoint: String, config: RunConfig) throws {
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
            try file.write("valid", valid ?? [UInt8](repeating: 1, count: n), shape: [n])
            try file.close()
        }
    }

    public static func read(_ path: String) throws -> Contents {
        let (file, header) = try FileHeader.open(path, expecting: format)
        do {
            let shape = try file.dataset("logits").shape()
            guard shape.count == 2, try file.dataset("probs").shape() == shape else {
                throw FileFormatError(path: path, problem: "/logits and /probs must both be [N, classes]")
            }
            let valid: [UInt8] = file.exists("valid") ? try file.read("valid") : [UInt8](repeating: 1, count: shape[0])
            guard valid.count == shape[0] else {
                throw FileFormatError(path: path, problem: "/valid has \(valid.count) rows, /logits \(shape[0])")
            }
            return Contents(header: header, classes: shape[1], logits: try file.read("logits"), probs: try file.read("probs"),
                            valid: valid)
        } catch let error as FileFormatError {
            throw error
        } catch {
            throw FileFormatError(path: path, problem: "not a complete predictions file: \(error)")
        }
    }
}
