import Foundation
import Storage

/// How a patch is normalised before the network sees it.
public enum PatchNormalization: String, CaseIterable, Codable, Sendable {
    /// Per patch: subtract its mean, divide by its standard deviation (the paper's preprocessing).
    /// A constant patch becomes all zeros.
    case zscore
    /// Raw values as stored.
    case none

    /// Expects finite values (`PatchClassifier` sets non-finite patches aside first).
    public func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        guard self == .zscore, count > 0 else { return }
        var sum = 0.0, sum2 = 0.0, largest = 0.0
        for i in 0..<count { sum += Double(values[i]); largest = max(largest, abs(Double(values[i]))) }
        let mean = sum / Double(count)
        for i in 0..<count { let d = Double(values[i]) - mean; sum2 += d * d }
        let std = (sum2 / Double(count)).squareRoot()
        guard std > 1e-6 else { values.update(repeating: 0, count: count); return }
        if largest + abs(mean) < Double(Float.greatestFiniteMagnitude) {
            // Float arithmetic, as always (logits stay bit-identical to earlier versions).
            let inv = Float(1 / std), m = Float(mean)
            for i in 0..<count { values[i] = (values[i] - m) * inv }
        } else {
            // Values near Float's limit: values[i] − mean would overflow to ±Inf in Float.
            for i in 0..<count { values[i] = Float((Double(values[i]) - mean) / std) }
        }
    }
}

/// Batched classification of a patches file with a checkpoint (`netosis infer`, `screen`). With a
/// thread team of T, T batches go through T replicas of the model at once; every batch is the
/// batch one thread would have run, so the logits are the same at every thread count.
public final class PatchClassifier {
    public let model: any Model
    public let normalization: PatchNormalization
    public let batchSize: Int
    public let team: ThreadTeam
    private var replicas: ModelReplicas?

    public init(model: any Model, normalization: PatchNormalization = .zscore, batchSize: Int = 64, team: ThreadTeam = .shared) {
        self.model = model; self.normalization = normalization; self.batchSize = max(1, batchSize); self.team = team
    }

    /// The layout of `/patches` in a file: [N,H,W] or [N,C,H,W]; checked against the model.
    public struct PatchLayout: Sendable {
        public let count: Int, channels: Int, height: Int, width: Int, channelAxis: Bool
    }

    public func layout(of file: HDF5File, path: String) throws -> PatchLayout {
        guard file.exists("patches") else { throw NeuralError.badInput("\(path): no /patches dataset") }
        let shape = try file.dataset("patches").shape()
        let config = model.modelConfig
        let expected = config.inputChannels == 1 ? "[N, \(config.inputSize), \(config.inputSize)] or [N, 1, \(config.inputSize), \(config.inputSize)]"
                                                 : "[N, \(config.inputChannels), \(config.inputSize), \(config.inputSize)]"
        let layout: PatchLayout
        switch shape.count {
        case 3: layout = PatchLayout(count: shape[0], channels: 1, height: shape[1], width: shape[2], channelAxis: false)
        case 4: layout = PatchLayout(count: shape[0], channels: shape[1], height: shape[2], width: shape[3], channelAxis: true)
        default: throw NeuralError.badInput("\(path): /patches has shape \(shape); expected \(expected)")
        }
        guard layout.channels == config.inputChannels, layout.height == config.inputSize, layout.width == config.inputSize else {
            throw NeuralError.badInput("\(path): /patches has shape \(shape); model '\(config.name)' expects \(expected)")
        }
        return layout
    }

    /// Logits [count, classes] for patches [start, start+count) of the file (read batch by batch).
    public func logits(file: HDF5File, path: String, range: Range<Int>,
                       progress: ((Int) -> Void)? = nil) throws -> [Float] {
        try classify(file: file, path: path, range: range, progress: progress).logits
    }

    /// Class scores of a range of patches. A patch holding NaN/Inf is not classified: `valid` is 0
    /// for it and its logits row is NaN.
    public struct Scores: Sendable {
        public var logits: [Float]
        /// 1 classified, 0 excluded (the patch held non-finite values); one per patch.
        public var valid: [UInt8]
    }

    public func classify(file: HDF5File, path: String, range: Range<Int>,
                         progress: ((Int) -> Void)? = nil) throws -> Scores {
        let layout = try layout(of: file, path: path)
        let dataset = try file.dataset("patches")
        let (c, h, w) = (layout.channels, layout.height, layout.width)
        return try classify(count: range.count, channels: c, height: h, width: w, progress: progress) { first, n, raw in
            let start = range.lowerBound + first
            let offset = layout.channelAxis ? [start, 0, 0, 0] : [start, 0, 0]
            let count = layout.channelAxis ? [n, c, h, w] : [n, h, w]
            do { raw = try dataset.read(offset: offset, count: count, as: Float.self) }
            catch { throw NeuralError.badInput("\(path): cannot read patches \(start)..<\(start + n): \(error)") }
        }
    }

    /// Scores of `count` patches [C,H,W] that `read(first, n, &raw)` supplies batch by batch as float32
    /// NCHW (e.g. from a file, or cut from an image by `screen`); the same batches give the same logits
    /// whatever the source.
    public func classify(count: Int, channels c: Int, height h: Int, width w: Int,
                         progress: ((Int) -> Void)? = nil,
                         read: (_ first: Int, _ n: Int, _ raw: inout [Float]) throws -> Void) throws -> Scores {
        if replicas == nil { replicas = try ModelReplicas(model, team: team) }
        let replicas = replicas!
        let classes = model.numClasses, per = c * h * w
        var out = [Float](repeating: 0, count: count * classes)
        var valid = [UInt8](repeating: 1, count: count)
        let scratch = (0..<replicas.count).map { _ in BatchScratch(floats: batchSize * per) }
        var start = 0
        while start < count {
            // Up to one batch per replica, read in order (readers are not thread-safe).
            var batches: [(first: Int, n: Int)] = []
            var next = start
            for member in 0..<replicas.count where next < count {
                let n = min(batchSize, count - next)
                try read(next, n, &scratch[member].raw)
                precondition(scratch[member].raw.count >= n * per, "PatchClassifier: reader supplied \(scratch[member].raw.count) values for \(n) patches")
                batches.append((next, n))
                next += n
            }
            out.withUnsafeMutableBufferPointer { out in
                valid.withUnsafeMutableBufferPointer { valid in
                    replicas.run { model, member in
                        guard member < batches.count else { return }
                        let (first, n) = batches[member]
                        scratch[member].classify(n, first: first, model: model, channels: c, height: h, width: w,
                                                 normalization: normalization, out: out.baseAddress!, valid: valid.baseAddress!)
                    }
                }
            }
            start = next
            progress?(start)
        }
        return Scores(logits: out, valid: valid)
    }

    /// One replica's batch: the raw patches as read (NCHW) and the network's input (NHWC).
    private final class BatchScratch {
        var raw: [Float] = []
        var nhwc: [Float]
        init(floats: Int) { nhwc = [Float](repeating: 0, count: floats) }

        /// Normalises and lays out patches [first, first + n) and writes their logits (NaN for a patch
        /// holding non-finite values, whose `valid` becomes 0) into `out`.
        func classify(_ n: Int, first: Int, model: any Model, channels c: Int, height h: Int, width w: Int,
                      normalization: PatchNormalization, out: UnsafeMutablePointer<Float>, valid: UnsafeMutablePointer<UInt8>) {
            let per = c * h * w, classes = model.numClasses
            raw.withUnsafeMutableBufferPointer { r in
                for i in 0..<n {
                    let patch = r.baseAddress! + i * per
                    // Zeroed in place, so the batch (and every other patch's logits) stays as it was.
                    if !UnsafeBufferPointer(start: patch, count: per).allSatisfy(\.isFinite) {
                        valid[first + i] = 0
                        patch.update(repeating: 0, count: per)
                    }
                    normalization.apply(patch, count: per)
                }
                nhwc.withUnsafeMutableBufferPointer { dst in
                    if c == 1 {
                        dst.baseAddress!.update(from: r.baseAddress!, count: n * per)
                    } else {
                        for i in 0..<n { for ch in 0..<c { for p in 0..<h * w {
                            dst[(i * h * w + p) * c + ch] = r[(i * c + ch) * h * w + p]
                        } } }
                    }
                }
            }
            let logits = model.forward(nhwc, batch: n, height: h, width: w, training: false)
            for i in 0..<n * classes {
                out[first * classes + i] = valid[first + i / classes] == 1 ? logits[i] : .nan
            }
        }
    }

    /// Row-wise softmax (a NaN row stays NaN).
    public static func probabilities(_ logits: [Float], classes: Int) -> [Float] {
        var out = logits
        for r in 0..<logits.count / classes {
            let row = logits[r * classes ..< (r + 1) * classes]
            let m = row.max()!
            var s: Float = 0
            for j in 0..<classes { out[r * classes + j] = Foundation.exp(logits[r * classes + j] - m); s += out[r * classes + j] }
            for j in 0..<classes { out[r * classes + j] /= s }
        }
        return out
    }
}
