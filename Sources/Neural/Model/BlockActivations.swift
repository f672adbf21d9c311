/// A dense block's tensors: one buffer holds the block input and every layer's k new channels
/// side by side (the concatenation, written in place), so layer j reads the channel prefix it sees.
final class BlockActivations {
    let channels: Int                      // C_b
    let features = FloatBuffer()           // [rows, C_b]  block input, then each layer's k channels
    let gradient = FloatBuffer()           // [rows, C_b]  dLoss/dfeatures
    let bottlenecks: [FloatBuffer]         // per layer [rows, B]: conv1's output = norm2's input (training)
    /// Batch mean and biased variance of every channel [C_b], computed once when the channel is
    /// written (training); every BatchNorm reading the channel reuses them.
    private var mean: [Double], variance: [Double]
    private(set) var batch = 0, height = 0, width = 0
    /// Set: channel statistics over every rank's shard (`train --sync-bn`).
    var sync: BatchNormSync?
    var rows: Int { batch * height * width }

    init(channels: Int, layers: Int) {
        self.channels = channels
        bottlenecks = (0..<layers).map { _ in FloatBuffer() }
        mean = .init(repeating: 0, count: channels); variance = mean
    }

    /// Sizes the block for a forward; returns where its first channels go (ld = C_b).
    func begin(batch: Int, height: Int, width: Int) -> UnsafeMutablePointer<Float> {
        self.batch = batch; self.height = height; self.width = width
        return features.reserve(rows * channels)
    }

    func computeStatistics(channels range: Range<Int>) {
        mean.withUnsafeMutableBufferPointer { m in
            variance.withUnsafeMutableBufferPointer { v in
                Profiler.time(.batchNorm) {
                    BatchNorm2D.statistics(x: features.pointer + range.lowerBound, ldx: channels, rows: rows,
                                           channels: range.count, mean: m.baseAddress! + range.lowerBound,
                                           variance: v.baseAddress! + range.lowerBound, sync: sync)
                }
            }
        }
    }

    /// BN+ReLU of the first `norm.channels` channels into y [rows, norm.channels]: with the
    /// statistics computed when the channels were written (training) or the running ones.
    func normalize(_ norm: BatchNorm2D, into y: UnsafeMutablePointer<Float>, training: Bool) {
        guard training else {
            norm.forwardInference(x: features.pointer, ldx: channels, rows: rows, y: y, ldy: norm.channels, relu: true)
            return
        }
        mean.withUnsafeBufferPointer { m in
            variance.withUnsafeBufferPointer { v in
                norm.forwardTraining(x: features.pointer, ldx: channels, rows: rows, y: y, ldy: norm.channels,
                                     relu: true, statistics: (m.baseAddress!, v.baseAddress!))
            }
        }
    }

    /// The same BN+ReLU output again in backward, from the batch statistics `norm` kept.
    func renormalize(_ norm: BatchNorm2D, into y: UnsafeMutablePointer<Float>) {
        norm.applyBatchStatistics(x: features.pointer, ldx: channels, rows: rows, y: y, ldy: norm.channels, relu: true)
    }

    /// BN+ReLU backward from dy [rows, norm.channels] into the gradient of the first channels:
    /// written by the block's last reader (the first one backward reaches), added by the others.
    func normBackward(_ norm: BatchNorm2D, dy: UnsafePointer<Float>, accumulate: Bool) {
        let dx = accumulate ? gradient.pointer : gradient.reserve(rows * channels)
        norm.backward(x: features.pointer, ldx: channels, rows: rows, dy: dy, lddy: norm.channels,
                      dx: dx, lddx: channels, accumulate: accumulate, relu: true)
    }
}
