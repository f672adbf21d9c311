import Foundation

/// Batch normalisation over the channels of channels-last rows (any number of rows: N·H·W),
/// optionally fused with the ReLU that follows it in every DenseNet unit.
///
/// Training: normalise with the batch mean and biased variance, update running statistics
/// with PyTorch's convention (running = (1-m)·running + m·batch, unbiased variance).
/// Inference: normalise with the running statistics.
public final class BatchNorm2D {
    public let channels: Int
    public var momentum: Float
    public var epsilon: Float
    public let weight: Parameter, bias: Parameter
    public let runningMean: Parameter, runningVar: Parameter
    /// Batch statistics of the last training forward (reused by backward and recomputation).
    public private(set) var mean: [Float]
    public private(set) var invStd: [Float]
    private var sums: [Double], sums2: [Double]
    private var scale: [Float], shift: [Float]

    public init(name: String, channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.channels = channels; self.momentum = momentum; self.epsilon = epsilon
        weight = Parameter(name: name + "/weight", shape: [channels], value: .init(repeating: 1, count: channels), decays: false)
        bias = Parameter(name: name + "/bias", shape: [channels], value: .init(repeating: 0, count: channels), decays: false)
        runningMean = Parameter(name: name + "/running_mean", shape: [channels],
                                value: .init(repeating: 0, count: channels), trainable: false)
        runningVar = Parameter(name: name + "/running_var", shape: [channels],
                               value: .init(repeating: 1, count: channels), trainable: false)
        mean = .init(repeating: 0, count: channels); invStd = .init(repeating: 1, count: channels)
        sums = .init(repeating: 0, count: channels); sums2 = sums
        scale = mean; shift = mean
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [Parameter] { [runningMean, runningVar] }

    /// Training forward: batch statistics, running-stat update, then y = γ·x̂ + β (then ReLU).
    public func forwardTraining(x: UnsafePointer<Float>, ldx: Int, rows: Int,
                                y: UnsafeMutablePointer<Float>, ldy: Int, relu: Bool) {
        Profiler.time(.batchNorm) {
            let c = channels
            sums.withUnsafeMutableBufferPointer { s in
                sums2.withUnsafeMutableBufferPointer { s2 in
                    s.update(repeating: 0); s2.update(repeating: 0)
                    // Float partial sums over blocks of rows, Double across blocks: fast and accurate.
                    let block = 64
                    var partial = [Float](repeating: 0, count: c)
                    var r0 = 0
                    while r0 < rows {
                        let r1 = min(rows, r0 + block)
                        partial.withUnsafeMutableBufferPointer { p in
                            p.update(repeating: 0)
                            for r in r0..<r1 { let row = x + r * ldx; for j in 0..<c { p[j] += row[j] } }
                            for j in 0..<c { s[j] += Double(p[j]) }
                        }
                        r0 = r1
                    }
                    for j in 0..<c { s[j] /= Double(rows) }
                    mean.withUnsafeMutableBufferPointer { m in for j in 0..<c { m[j] = Float(s[j]) } }
                    r0 = 0
                    while r0 < rows {
                        let r1 = min(rows, r0 + block)
                        partial.withUnsafeMutableBufferPointer { p in
                            mean.withUnsafeBufferPointer { m in
                                p.update(repeating: 0)
                                for r in r0..<r1 {
                                    let row = x + r * ldx
                                    for j in 0..<c { let d = row[j] - m[j]; p[j] += d * d }
                                }
                            }
                            for j in 0..<c { s2[j] += Double(p[j]) }
                        }
                        r0 = r1
                    }
                    let n = Double(rows)
                    for j in 0..<c {
                        let variance = s2[j] / n
                        invStd[j] = Float(1 / (variance + Double(epsilon)).squareRoot())
                        let unbiased = rows > 1 ? variance * n / (n - 1) : variance
                        runningMean.value[j] = (1 - momentum) * runningMean.value[j] + momentum * mean[j]
                        runningVar.value[j] = (1 - momentum) * runningVar.value[j] + momentum * Float(unbiased)
                    }
                }
            }
            applyBatchStatistics(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: relu)
        }
    }

    /// y = γ·(x − μ_batch)·σ⁻¹ + β with the statistics of the last training forward (recomputation).
    public func applyBatchStatistics(x: UnsafePointer<Float>, ldx: Int, rows: Int,
                                     y: UnsafeMutablePointer<Float>, ldy: Int, relu: Bool) {
        for j in 0..<channels {
            scale[j] = weight.value[j] * invStd[j]
            shift[j] = bias.value[j] - mean[j] * scale[j]
        }
        applyAffine(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: relu)
    }

    /// Inference forward with the running statistics.
    public func forwardInference(x: UnsafePointer<Float>, ldx: Int, rows: Int,
                                 y: UnsafeMutablePointer<Float>, ldy: Int, relu: Bool) {
        for j in 0..<channels {
            scale[j] = weight.value[j] / (runningVar.value[j] + epsilon).squareRoot()
            shift[j] = bias.value[j] - runningMean.value[j] * scale[j]
        }
        Profiler.time(.batchNorm) { applyAffine(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: relu) }
    }

    /// Inference-mode per-channel scale and shift (for folding into a neighbouring convolution).
    public func inferenceAffine() -> (scale: [Float], shift: [Float]) {
        let s = (0..<channels).map { weight.value[$0] / (runningVar.value[$0] + epsilon).squareRoot() }
        return (s, (0..<channels).map { bias.value[$0] - runningMean.value[$0] * s[$0] })
    }

    private func applyAffine(x: UnsafePointer<Float>, ldx: Int, rows: Int,
                             y: UnsafeMutablePointer<Float>, ldy: Int, relu: Bool) {
        let c = channels
        scale.withUnsafeBufferPointer { a in
            shift.withUnsafeBufferPointer { b in
                if relu {
                    for r in 0..<rows {
                        let xr = x + r * ldx, yr = y + r * ldy
                        for j in 0..<c { let v = xr[j] * a[j] + b[j]; yr[j] = v < 0 ? 0 : v }   // NaN propagates
                    }
                } else {
                    for r in 0..<rows {
                        let xr = x + r * ldx, yr = y + r * ldy
                        for j in 0..<c { yr[j] = xr[j] * a[j] + b[j] }
                    }
                }
            }
        }
    }

    /// Training-mode backward. `x` is the forward input, `dy` the gradient of the (ReLU'd) output.
    /// Accumulates dγ, dβ; writes dx (or adds to it when `accumulate`).
    public func backward(x: UnsafePointer<Float>, ldx: Int, rows: Int, dy: UnsafePointer<Float>, lddy: Int,
                         dx: UnsafeMutablePointer<Float>, lddx: Int, accumulate: Bool, relu: Bool) {
        Profiler.time(.batchNorm) {
            let c = channels
            for j in 0..<c {
                scale[j] = weight.value[j] * invStd[j]
                shift[j] = bias.value[j] - mean[j] * scale[j]
            }
            var dBeta = [Float](repeating: 0, count: c), dGamma = dBeta   // Σ dy, Σ dy·x̂ (in Double below)
            var sumDy = [Double](repeating: 0, count: c), sumDyXhat = sumDy
            scale.withUnsafeBufferPointer { a in
                shift.withUnsafeBufferPointer { b in
                    mean.withUnsafeBufferPointer { m in
                        invStd.withUnsafeBufferPointer { s in
                            let block = 64
                            var r0 = 0
                            while r0 < rows {
                                let r1 = min(rows, r0 + block)
                                dBeta.withUnsafeMutableBufferPointer { p in
                                    dGamma.withUnsafeMutableBufferPointer { q in
                                        p.update(repeating: 0); q.update(repeating: 0)
                                        for r in r0..<r1 {
                                            let xr = x + r * ldx, gr = dy + r * lddy
                                            for j in 0..<c {
                                                var g = gr[j]
                                                if relu && xr[j] * a[j] + b[j] <= 0 { g = 0 }
                                                p[j] += g
                                                q[j] += g * (xr[j] - m[j]) * s[j]
                                            }
                                        }
                                        for j in 0..<c { sumDy[j] += Double(p[j]); sumDyXhat[j] += Double(q[j]) }
                                    }
                                }
                                r0 = r1
                            }
                        }
                    }
                }
            }
            for j in 0..<c {
                bias.grad[j] += Float(sumDy[j])
                weight.grad[j] += Float(sumDyXhat[j])
            }
            // dx = γσ⁻¹ · (dy − mean(dy) − x̂ · mean(dy·x̂))
            let n = Double(rows)
            let meanDy = sumDy.map { Float($0 / n) }, meanDyXhat = sumDyXhat.map { Float($0 / n) }
            scale.withUnsafeBufferPointer { a in
                shift.withUnsafeBufferPointer { b in
                    mean.withUnsafeBufferPointer { m in
                        invStd.withUnsafeBufferPointer { s in
                            meanDy.withUnsafeBufferPointer { md in
                                meanDyXhat.withUnsafeBufferPointer { mq in
                                    for r in 0..<rows {
                                        let xr = x + r * ldx, gr = dy + r * lddy, dr = dx + r * lddx
                                        for j in 0..<c {
                                            var g = gr[j]
                                            if relu && xr[j] * a[j] + b[j] <= 0 { g = 0 }
                                            let xhat = (xr[j] - m[j]) * s[j]
                                            let v = a[j] * (g - md[j] - xhat * mq[j])
                                            dr[j] = accumulate ? dr[j] + v : v
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
