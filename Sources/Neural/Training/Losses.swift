import Foundation

/// A classification loss over logits [batch, classes]; returns the batch loss and writes
/// dLoss/dLogits.
public protocol ClassificationLoss {
    func callAsFunction(logits: UnsafePointer<Float>, labels: [Int], classes: Int,
                        gradient: UnsafeMutablePointer<Float>?) -> Double
}

@inline(__always)
func softmaxRow(_ z: UnsafePointer<Float>, _ p: UnsafeMutablePointer<Double>, classes: Int) -> Double {
    var m = Double(z[0])
    for j in 1..<classes { m = max(m, Double(z[j])) }
    var s = 0.0
    for j in 0..<classes { p[j] = Foundation.exp(Double(z[j]) - m); s += p[j] }
    for j in 0..<classes { p[j] /= s }
    return m + Foundation.log(s)   // log-sum-exp
}

/// Softmax cross-entropy, optionally class-weighted with PyTorch's convention:
/// loss = Σ w_y·(−log p_y) / Σ w_y (the unweighted case is the plain mean).
public struct SoftmaxCrossEntropy: ClassificationLoss {
    public var classWeights: [Float]?

    public init(classWeights: [Float]? = nil) { self.classWeights = classWeights }

    public func callAsFunction(logits: UnsafePointer<Float>, labels: [Int], classes: Int,
                               gradient: UnsafeMutablePointer<Float>?) -> Double {
        Profiler.time(.loss) {
            let batch = labels.count
            var p = [Double](repeating: 0, count: classes)
            var total = 0.0, weightSum = 0.0
            for n in 0..<batch { weightSum += Double(classWeights?[labels[n]] ?? 1) }
            for n in 0..<batch {
                let y = labels[n]
                precondition(y >= 0 && y < classes, "label \(y) outside 0..<\(classes)")
                let w = Double(classWeights?[y] ?? 1)
                let z = logits + n * classes
                let lse = p.withUnsafeMutableBufferPointer { softmaxRow(z, $0.baseAddress!, classes: classes) }
                total += w * (lse - Double(z[y]))
                if let gradient {
                    for j in 0..<classes {
                        gradient[n * classes + j] = Float(w * (p[j] - (j == y ? 1 : 0)) / weightSum)
                    }
                }
            }
            return total / weightSum
        }
    }
}

/// Focal loss (Lin et al. 2017): −α_y·(1 − p_y)^γ·log p_y, averaged over the batch.
/// `alpha` is a per-class weight (nil = 1 for every class); γ = 0 and no α is cross-entropy.
public struct FocalLoss: ClassificationLoss {
    public var gamma: Double
    public var alpha: [Float]?

    public init(gamma: Double = 2, alpha: [Float]? = nil) { self.gamma = gamma; self.alpha = alpha }

    public func callAsFunction(logits: UnsafePointer<Float>, labels: [Int], classes: Int,
                               gradient: UnsafeMutablePointer<Float>?) -> Double {
        Profiler.time(.loss) {
            let batch = labels.count
            var p = [Double](repeating: 0, count: classes)
            var total = 0.0
            for n in 0..<batch {
                let y = labels[n]
                precondition(y >= 0 && y < classes, "label \(y) outside 0..<\(classes)")
                let a = Double(alpha?[y] ?? 1)
                let z = logits + n * classes
                let lse = p.withUnsafeMutableBufferPointer { softmaxRow(z, $0.baseAddress!, classes: classes) }
                let logPt = Double(z[y]) - lse
                let pt = p[y]
                let oneMinus = max(1 - pt, 0)
                total += -a * Foundation.pow(oneMinus, gamma) * logPt
                if let gradient {
                    // dL/dz_j = α·[γ(1−p)^(γ−1)·p·log p − (1−p)^γ]·(δ_jy − p_j)
                    let powGm1 = gamma == 0 ? 0 : gamma * Foundation.pow(max(oneMinus, 1e-30), gamma - 1)
                    let factor = a * (powGm1 * pt * logPt - Foundation.pow(oneMinus, gamma))
                    for j in 0..<classes {
                        gradient[n * classes + j] = Float(factor * ((j == y ? 1 : 0) - p[j]) / Double(batch))
                    }
                }
            }
            return total / Double(batch)
        }
    }
}

/// Mean absolute error of outputs [batch, k] against targets (Keras' `mean_absolute_error`, the PL
/// counter's stage-2 loss): the mean of |y − t| over the batch and the k outputs. Its gradient is
/// sign(y − t) / (batch · k) (0 where y = t).
public struct MeanAbsoluteError {
    public init() {}

    public func callAsFunction(outputs: UnsafePointer<Float>, targets: [Float], gradient: UnsafeMutablePointer<Float>?) -> Double {
        Profiler.time(.loss) {
            let n = targets.count
            guard n > 0 else { return 0 }
            var total = 0.0
            let scale = 1 / Float(n)
            for i in 0..<n {
                let d = outputs[i] - targets[i]
                total += Double(abs(d))
                gradient?[i] = d > 0 ? scale : (d < 0 ? -scale : 0)
            }
            return total / Double(n)
        }
    }
}
