import Foundation

/// Batch normalisation over the channels of channels-last rows (any number of rows: N·H·W),
/// optionally fused with the ReLU that follows it in every DenseNet unit.
///
/// Training: normalise with the batch mean and biased variance, update running statistics
/// with PyTorch's convention (running = (1-m)·running + m·batch, unbiased variance).
/// Inference: normalise with the running statistics.
/// Statistics may be supplied by the caller: a dense block computes each channel's statistics
/// once when the channel is written, and every later BatchNorm reading it reuses them.
/// Synchronised BatchNorm (`train --sync-bn`): the per-channel sums behind the batch statistics
/// (forward) and behind dx (backward) are summed over `ranks` equal shards by `reduce` (an in-place
/// all-reduce of `count` Doubles), so N ranks compute what one rank with the whole batch would.
public final class BatchNormSync {
    public let ranks: Int
    public let reduce: (UnsafeMutablePointer<Double>, Int) -> Void

    public init(ranks: Int, reduce: @escaping (UnsafeMutablePointer<Double>, Int) -> Void) {
        self.ranks = ranks; self.reduce = reduce
    }
}

public final class BatchNorm2D {
    /// Set: batch statistics over every rank's shard (see `BatchNormSync`).
    public var sync: BatchNormSync?
    public let channels: Int
    public var momentum: Float
    public var epsilon: Float
    public let weight: Parameter, bias: Parameter
    public let runningMean: Parameter, runningVar: Parameter
    /// Frozen: a training-mode forward normalises with the running statistics (and leaves them as
    /// they are), and backward treats them as constants (dx = dy·γσ⁻¹): the numbers of an
    /// inference-mode forward, differentiable. Saliency maps use it.
    public var frozen = false
    /// Guided backprop (with the fused ReLU): backward passes only positive gradients.
    public var guided = false
    /// Batch statistics of the last training forward (reused by backward and recomputation).
    public private(set) var mean: [Float]
    public private(set) var invStd: [Float]
    private var statMean: [Double], statVariance: [Double]
    /// Per-channel y = x·scale + shift of the current normalisation (`refreshAffine`).
    private let scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>

    public init(name: String, channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.channels = channels; self.momentum = momentum; self.epsilon = epsilon
        weight = Parameter(name: name + "/weight", shape: [channels], value: .init(repeating: 1, count: channels), decays: false)
        bias = Parameter(name: name + "/bias", shape: [channels], value: .init(repeating: 0, count: channels), decays: false)
        runningMean = Parameter(name: name + "/running_mean", shape: [channels],
                                value: .init(repeating: 0, count: channels), trainable: false)
        runningVar = Parameter(name: name + "/running_var", shape: [channels],
                               value: .init(repeating: 1, count: channels), trainable: false)
        mean = .init(repeating: 0, count: channels); invStd = .init(repeating: 1, count: channels)
        statMean = .init(repeating: 0, count: channels); statVariance = statMean
        scale = .allocate(capacity: channels); shift = .allocate(capacity: channels)
    }

    deinit { scale.deallocate(); shift.deallocate() }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [Parameter] { [runningMean, runningVar] }

    // MARK: statistics

    /// Per-channel mean and biased variance of `channels` columns of x (two passes, Float partial
    /// sums over blocks of 64 rows accumulated in Double, rows split over threads).
    public static func statistics(x: UnsafePointer<Float>, ldx: Int, rows: Int, channels c: Int,
                                  mean: UnsafeMutablePointer<Double>, variance: UnsafeMutablePointer<Double>,
                                  sync: BatchNormSync? = nil) {
        let threads = min(Parallel.threads, max(1, rows / 256))
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: threads * c)
        let blockSums = UnsafeMutablePointer<Float>.allocate(capacity: threads * c)
        defer { partial.deallocate(); blockSums.deallocate() }
        func pass(_ centre: UnsafePointer<Double>?) {
            partial.update(repeating: 0, count: threads * c)
            let work: (Int) -> Void = { t in
                let p = partial + t * c, q = blockSums + t * c
                var m = [Float](repeating: 0, count: c)
                if let centre { for j in 0..<c { m[j] = Float(centre[j]) } }
                m.withUnsafeBufferPointer { m in
                    let r0 = rows * t / threads, r1 = rows * (t + 1) / threads
                    var b = r0
                    while b < r1 {
                        let e = min(r1, b + 64)
                        q.update(repeating: 0, count: c)
                        let cv = vectorPart(c)
                        if centre == nil {
                            for r in b..<e {
                                let row = x + r * ldx
                                var j = 0
                                while j < cv { store(load(q + j) + load(row + j), q + j); j += 16 }
                                while j < c { q[j] += row[j]; j += 1 }
                            }
                        } else {
                            let mp = m.baseAddress!
                            for r in b..<e {
                                let row = x + r * ldx
                                var j = 0
                                while j < cv { let d = load(row + j) - load(mp + j); store(load(q + j) + d * d, q + j); j += 16 }
                                while j < c { let d = row[j] - mp[j]; q[j] += d * d; j += 1 }
                            }
                        }
                        for j in 0..<c { p[j] += Double(q[j]) }
                        b = e
                    }
                }
            }
            if threads == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: work) }
        }
        let total = Double(rows * (sync?.ranks ?? 1))
        pass(nil)
        for j in 0..<c { var s = 0.0; for t in 0..<threads { s += partial[t * c + j] }; mean[j] = s }
        sync?.reduce(mean, c)
        for j in 0..<c { mean[j] /= total }
        pass(UnsafePointer(mean))
        for j in 0..<c { var s = 0.0; for t in 0..<threads { s += partial[t * c + j] }; variance[j] = s }
        sync?.reduce(variance, c)
        for j in 0..<c { variance[j] /= total }
    }

    /// Adopts batch statistics (mean, biased variance over `rows`): sets the normalisation used
    /// by this forward and backward and updates the running statistics.
    public func setBatchStatistics(mean m: UnsafePointer<Double>, variance v: UnsafePointer<Double>, rows: Int) {
        if frozen {
            for j in 0..<channels {
                mean[j] = runningMean.value[j]
                invStd[j] = 1 / (runningVar.value[j] + epsilon).squareRoot()
            }
            return
        }
        let rows = rows * (sync?.ranks ?? 1)
        let n = Double(rows)
        for j in 0..<channels {
            mean[j] = Float(m[j])
            invStd[j] = Float(1 / (v[j] + Double(epsilon)).squareRoot())
            let unbiased = rows > 1 ? v[j] * n / (n - 1) : v[j]
            runningMean.value[j] = (1 - momentum) * runningMean.value[j] + momentum * Float(m[j])
            runningVar.value[j] = (1 - momentum) * runningVar.value[j] + momentum * Float(unbiased)
        }
    }

    // MARK: forward

    /// `forwardTraining` (batch statistics) or `forwardInference` (running statistics).
    public func forward(x: UnsafePointer<Float>, ldx: Int, rows: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                        relu: Bool, training: Bool) {
        if training { forwardTraining(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: relu) }
        else { forwardInference(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: relu) }
    }

    /// Training forward: batch statistics (computed here, or given), running-stat update, then
    /// y = γ·x̂ + β (then ReLU).
    public func forwardTraining(x: UnsafePointer<Float>, ldx: Int, rows: Int,
                                y: UnsafeMutablePointer<Float>, ldy: Int, relu: Bool,
                                statistics: (mean: UnsafePointer<Double>, variance: UnsafePointer<Double>)? = nil) {
        Profiler.time(.batchNorm) {
            if let statistics {
                setBatchStatistics(mean: statistics.mean, variance: statistics.variance, rows: rows)
            } else {
                prepareTraining(x: x, ldx: ldx, rows: rows)
            }
            applyBatchStatistics(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: relu)
        }
    }

    /// Training forward without writing the output: batch statistics and running-stat update,
    /// then the affine a convolution can apply while lowering its input (`affine`).
    public func prepareTraining(x: UnsafePointer<Float>, ldx: Int, rows: Int) {
        Profiler.time(.batchNorm) {
            statMean.withUnsafeMutableBufferPointer { m in
                statVariance.withUnsafeMutableBufferPointer { v in
                    BatchNorm2D.statistics(x: x, ldx: ldx, rows: rows, channels: channels,
                                           mean: m.baseAddress!, variance: v.baseAddress!, sync: sync)
                    setBatchStatistics(mean: m.baseAddress!, variance: v.baseAddress!, rows: rows)
                }
            }
        }
    }

    /// Per-channel scale and shift of the current normalisation (batch statistics of the last
    /// training forward, or the running statistics when `inference`), valid until the next call.
    public func affine(inference: Bool) -> InputAffine {
        refreshAffine(inference: inference)
        return InputAffine(scale: scale, shift: shift)
    }

    /// y = γ·(x − μ_batch)·σ⁻¹ + β with the statistics of the last training forward (recomputation).
    public func applyBatchStatistics(x: UnsafePointer<Float>, ldx: Int, rows: Int,
                                     y: UnsafeMutablePointer<Float>, ldy: Int, relu: Bool) {
        refreshAffine(inference: false)
        applyAffine(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: relu)
    }

    /// Inference forward with the running statistics.
    public func forwardInference(x: UnsafePointer<Float>, ldx: Int, rows: Int,
                                 y: UnsafeMutablePointer<Float>, ldy: Int, relu: Bool) {
        refreshAffine(inference: true)
        applyAffine(x: x, ldx: ldx, rows: rows, y: y, ldy: ldy, relu: relu)
    }

    /// scale = γ·σ⁻¹, shift = β − μ·scale, from the batch statistics or the running ones.
    private func refreshAffine(inference: Bool) {
        for j in 0..<channels {
            if inference {
                scale[j] = weight.value[j] / (runningVar.value[j] + epsilon).squareRoot()
                shift[j] = bias.value[j] - runningMean.value[j] * scale[j]
            } else {
                scale[j] = weight.value[j] * invStd[j]
                shift[j] = bias.value[j] - mean[j] * scale[j]
            }
        }
    }

    private func applyAffine(x: UnsafePointer<Float>, ldx: Int, rows: Int,
                             y: UnsafeMutablePointer<Float>, ldy: Int, relu: Bool) {
        Profiler.time(.batchNorm) {
            let (a, b, c) = (UnsafePointer(scale), UnsafePointer(shift), channels)
            Parallel.ranges(rows, minimumPerThread: 128) { range in
                for r in range {   // a constant `relu` per call lets the kernel specialise
                    if relu { BatchNorm2D.scaleShift(x + r * ldx, y + r * ldy, scale: a, shift: b, count: c, relu: true) }
                    else { BatchNorm2D.scaleShift(x + r * ldx, y + r * ldy, scale: a, shift: b, count: c, relu: false) }
                }
            }
        }
    }

    /// The one elementwise kernel of the normalisation: y = x·scale + shift over `count` channels,
    /// then ReLU if asked. ReLU maps v < 0 to 0, which keeps NaN (a NaN loss must surface).
    @inline(__always)
    static func scaleShift(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, count c: Int, relu: Bool) {
        let cv = vectorPart(c)
        var j = 0
        while j < cv {
            let v = load(x + j) * load(scale + j) + load(shift + j)
            store(relu ? v.replacing(with: 0, where: v .< 0) : v, y + j)
            j += 16
        }
        while j < c {
            let v = x[j] * scale[j] + shift[j]
            y[j] = relu && v < 0 ? 0 : v
            j += 1
        }
    }

    // MARK: backward

    /// Training-mode backward. `x` is the forward input, `dy` the gradient of the (ReLU'd) output.
    /// Accumulates dγ, dβ; writes dx (or adds to it when `accumulate`). dx may alias dy.
    public func backward(x: UnsafePointer<Float>, ldx: Int, rows: Int, dy: UnsafePointer<Float>, lddy: Int,
                         dx: UnsafeMutablePointer<Float>, lddx: Int, accumulate: Bool, relu: Bool) {
        let guided = self.guided
        Profiler.time(.batchNorm) {
            let c = channels
            refreshAffine(inference: false)
            let threads = min(Parallel.threads, max(1, rows / 256))
            // Per thread: Σ g and Σ g·x̂ (Double), Float block sums.
            let sums = UnsafeMutablePointer<Double>.allocate(capacity: threads * 2 * c)
            let blocks = UnsafeMutablePointer<Float>.allocate(capacity: threads * 2 * c)
            defer { sums.deallocate(); blocks.deallocate() }
            sums.update(repeating: 0, count: threads * 2 * c)
            mean.withUnsafeBufferPointer { m in
                invStd.withUnsafeBufferPointer { s in
                    let a = UnsafePointer(scale), b = UnsafePointer(shift), m = m.baseAddress!, s = s.baseAddress!
                    let work: (Int) -> Void = { t in
                        let sDy = sums + t * 2 * c, sDyX = sDy + c
                        let p = blocks + t * 2 * c, q = p + c
                        let r0 = rows * t / threads, r1 = rows * (t + 1) / threads
                        var r = r0
                        while r < r1 {
                            let e = min(r1, r + 64)
                            p.update(repeating: 0, count: 2 * c)
                            let cv = vectorPart(c)
                            for row in r..<e {
                                let xr = x + row * ldx, gr = dy + row * lddy
                                var j = 0
                                while j < cv {
                                    let xv = load(xr + j)
                                    var g = load(gr + j)
                                    if relu { g.replace(with: 0, where: xv * load(a + j) + load(b + j) .<= 0) }
                                    if guided { g.replace(with: 0, where: g .< 0) }
                                    store(load(p + j) + g, p + j)
                                    store(load(q + j) + g * (xv - load(m + j)), q + j)
                                    j += 16
                                }
                                while j < c {
                                    var g = relu && xr[j] * a[j] + b[j] <= 0 ? 0 : gr[j]
                                    if guided && g < 0 { g = 0 }
                                    p[j] += g; q[j] += g * (xr[j] - m[j]); j += 1
                                }
                            }
                            for j in 0..<c { sDy[j] += Double(p[j]); sDyX[j] += Double(q[j]) * Double(s[j]) }
                            r = e
                        }
                    }
                    if threads == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: work) }
                }
            }
            var meanDy = [Float](repeating: 0, count: c), meanDyXhat = meanDy
            var totals = [Double](repeating: 0, count: 2 * c)
            for j in 0..<c {
                var sd = 0.0, sx = 0.0
                for t in 0..<threads { sd += sums[t * 2 * c + j]; sx += sums[t * 2 * c + c + j] }
                bias.grad[j] += Float(sd)     // this rank's share; the gradient all-reduce adds the others
                weight.grad[j] += Float(sx)
                totals[j] = sd; totals[c + j] = sx
            }
            // dx needs the means over the whole batch: with sync, over every rank's shard. Frozen
            // statistics are constants: no mean terms.
            if frozen { for j in totals.indices { totals[j] = 0 } }
            else if let sync { totals.withUnsafeMutableBufferPointer { sync.reduce($0.baseAddress!, 2 * c) } }
            let total = Double(rows * (sync?.ranks ?? 1))
            for j in 0..<c { meanDy[j] = Float(totals[j] / total); meanDyXhat[j] = Float(totals[c + j] / total) }
            // dx = γσ⁻¹ · (g − mean(g) − x̂ · mean(g·x̂)), with x̂ = (x − μ)σ⁻¹.
            var k1 = meanDy, k2 = meanDy
            for j in 0..<c { k2[j] = meanDyXhat[j] * invStd[j]; k1[j] = meanDy[j] }
            mean.withUnsafeBufferPointer { m in
                k1.withUnsafeBufferPointer { k1 in
                    k2.withUnsafeBufferPointer { k2 in
                        let a = UnsafePointer(scale), b = UnsafePointer(shift), m = m.baseAddress!
                        let k1 = k1.baseAddress!, k2 = k2.baseAddress!
                        Parallel.ranges(rows, minimumPerThread: 128) { range in
                            let cv = vectorPart(c)
                            for r in range {
                                let xr = x + r * ldx, gr = dy + r * lddy, dr = dx + r * lddx
                                var j = 0
                                while j < cv {
                                    let xv = load(xr + j), av = load(a + j)
                                    var g = load(gr + j)
                                    if relu { g.replace(with: 0, where: xv * av + load(b + j) .<= 0) }
                                    if guided { g.replace(with: 0, where: g .< 0) }
                                    var v = av * (g - load(k1 + j) - (xv - load(m + j)) * load(k2 + j))
                                    if accumulate { v += load(dr + j) }
                                    store(v, dr + j)
                                    j += 16
                                }
                                while j < c {
                                    var g = relu && xr[j] * a[j] + b[j] <= 0 ? 0 : gr[j]
                                    if guided && g < 0 { g = 0 }
                                    let v = a[j] * (g - k1[j] - (xr[j] - m[j]) * k2[j])
                                    dr[j] = accumulate ? dr[j] + v : v
                                    j += 1
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
