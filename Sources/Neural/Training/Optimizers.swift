import Foundation

/// Learning rate as a function of the step (0-based count of updates already applied).
///
/// - `timeDecay`: Keras' legacy SGD decay the paper used, lr_t = lr / (1 + decay·t).
/// - `step`: lr·γ^⌊t/every⌋.   - `cosine`: half cosine from lr to `minimum` over `totalSteps`.
/// - `oneCycle`: Smith's one-cycle policy as PyTorch's OneCycleLR (cosine, two phases): from
///   lr/div up to lr over the first `pctStart` of `totalSteps`, then down to lr/(div·finalDiv);
///   momentum (SGD's, Adam's β₁) goes the other way, maxMomentum → baseMomentum → maxMomentum.
///   fastai's `fit_one_cycle` is the same shape (pctStart 0.25, div 25, finalDiv 1e5).
/// Any kind may start with a linear warm-up over `warmupSteps` (lr·(t+1)/warmup), and may start
/// at step `offset` (a second phase of a run: fastai's `fine_tune` runs one cycle frozen, then another).
public struct LearningRateSchedule: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case constant
        case timeDecay(decay: Double)
        case step(every: Int, gamma: Double)
        case cosine(totalSteps: Int, minimum: Double)
        case oneCycle(totalSteps: Int, pctStart: Double, divFactor: Double, finalDivFactor: Double,
                      baseMomentum: Double, maxMomentum: Double)
    }
    public var base: Double
    public var kind: Kind
    public var warmupSteps: Int
    /// The run's step at which this schedule's step 0 falls.
    public var offset: Int

    public init(base: Double, kind: Kind = .constant, warmupSteps: Int = 0, offset: Int = 0) {
        self.base = base; self.kind = kind; self.warmupSteps = warmupSteps; self.offset = offset
    }

    public func rate(at runStep: Int) -> Double {
        let step = max(0, runStep - offset)
        if step < warmupSteps { return base * Double(step + 1) / Double(warmupSteps) }
        let t = Double(step - warmupSteps)
        switch kind {
        case .constant: return base
        case let .timeDecay(decay): return base / (1 + decay * Double(step))
        case let .step(every, gamma): return base * Foundation.pow(gamma, Double(Int(t) / max(1, every)))
        case let .cosine(total, minimum):
            let span = Double(max(1, total - warmupSteps))
            let progress = min(1, t / span)
            return minimum + (base - minimum) * 0.5 * (1 + Foundation.cos(Double.pi * progress))
        case let .oneCycle(total, pctStart, div, finalDiv, _, _):
            let initial = base / div
            let (phase, pct) = LearningRateSchedule.oneCyclePhase(step - warmupSteps, total: total, pctStart: pctStart)
            return phase == 0 ? LearningRateSchedule.cosineAnneal(initial, base, pct)
                              : LearningRateSchedule.cosineAnneal(base, initial / finalDiv, pct)
        }
    }

    /// The momentum this schedule sets at `step` (SGD's momentum, Adam's β₁), or nil: the optimizer's own.
    public func momentum(at runStep: Int) -> Double? {
        let step = max(0, runStep - offset)
        guard case let .oneCycle(total, pctStart, _, _, baseMomentum, maxMomentum) = kind else { return nil }
        let (phase, pct) = LearningRateSchedule.oneCyclePhase(max(0, step - warmupSteps), total: total, pctStart: pctStart)
        return phase == 0 ? cosineAnneal(maxMomentum, baseMomentum, pct) : cosineAnneal(baseMomentum, maxMomentum, pct)
    }

    /// PyTorch's phase boundaries: phase 0 ends at step pctStart·total − 1, phase 1 at total − 1.
    private static func oneCyclePhase(_ step: Int, total: Int, pctStart: Double) -> (phase: Int, pct: Double) {
        let end0 = pctStart * Double(total) - 1, end1 = Double(total - 1), s = Double(step)
        if s <= end0 { return (0, end0 > 0 ? s / end0 : 1) }
        return (1, end1 > end0 ? min(1, (s - end0) / (end1 - end0)) : 1)
    }

    private static func cosineAnneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        end + (start - end) / 2 * (Foundation.cos(Double.pi * pct) + 1)
    }
    private func cosineAnneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        LearningRateSchedule.cosineAnneal(start, end, pct)
    }
}

/// An optimizer whose whole state is visible (so checkpoints can save and restore it exactly).
public protocol Optimizer: AnyObject {
    /// Number of updates applied so far.
    var step: Int { get set }
    var schedule: LearningRateSchedule { get set }
    /// Applies one update to every trainable parameter from its `grad`.
    func update(_ parameters: [Parameter])
    /// State tensors by name (e.g. "momentum/features/conv0/weight"), PyTorch layout-agnostic.
    func stateTensors() -> [(name: String, values: [Float])]
    func loadStateTensor(name: String, values: [Float]) throws
    var kindName: String { get }
    /// Per-tensor learning-rate factors by parameter name (missing: 1): layer-group rates, and 0 for
    /// a frozen tensor, which is then not updated at all (no decay, no moments).
    var parameterRates: [String: Float] { get set }
}

/// SGD with momentum and (L2) weight decay, PyTorch's formulation:
/// g ← g + λ·w;  v ← μ·v + g (v = g on the first step);  w ← w − lr_t·v.
public final class SGD: Optimizer {
    public var step = 0
    public var schedule: LearningRateSchedule
    public var momentum: Float
    public var weightDecay: Float
    public var velocity: [String: [Float]] = [:]
    public var kindName: String { "sgd" }
    public var parameterRates: [String: Float] = [:]

    public init(schedule: LearningRateSchedule, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.schedule = schedule; self.momentum = momentum; self.weightDecay = weightDecay
    }

    /// The paper's setting: lr 0.001, momentum 0.9, Keras time decay 1e-7.
    public static func paper() -> SGD {
        SGD(schedule: LearningRateSchedule(base: 0.001, kind: .timeDecay(decay: 1e-7)), momentum: 0.9)
    }

    public func update(_ parameters: [Parameter]) {
        Profiler.time(.optimizer) {
            let rate = Float(schedule.rate(at: step))
            for p in parameters where p.trainable {
                let scale = parameterRates[p.name] ?? 1
                if scale == 0 { continue }
                let lr = rate * scale
                let wd = p.decays ? weightDecay : 0
                let first = velocity[p.name] == nil
                var v = velocity.removeValue(forKey: p.name) ?? [Float](repeating: 0, count: p.count)
                let mu = schedule.momentum(at: step).map(Float.init) ?? momentum
                p.value.withUnsafeMutableBufferPointer { w in
                    p.grad.withUnsafeBufferPointer { g in
                        v.withUnsafeMutableBufferPointer { v in
                            for i in 0..<w.count {
                                let gi = g[i] + wd * w[i]
                                v[i] = (first || mu == 0) ? gi : mu * v[i] + gi
                                w[i] -= lr * v[i]
                            }
                        }
                    }
                }
                velocity[p.name] = v
            }
            step += 1
        }
    }

    public func stateTensors() -> [(name: String, values: [Float])] {
        velocity.keys.sorted().map { ("momentum/" + $0, velocity[$0]!) }
    }

    public func loadStateTensor(name: String, values: [Float]) throws {
        guard name.hasPrefix("momentum/") else { throw NeuralError.badInput("SGD has no state '\(name)'") }
        velocity[String(name.dropFirst("momentum/".count))] = values
    }
}

/// Adam (Kingma & Ba) with bias correction; defaults α 1e-4, β₁ 0.9, β₂ 0.999, ε 1e-8.
/// Weight decay is L2 (added to the gradient, PyTorch's Adam) or, `decoupled`, AdamW's
/// (Loshchilov & Hutter: w ← w·(1 − lr·λ) before the Adam step; PyTorch's AdamW, fastai's default).
public final class Adam: Optimizer {
    public var step = 0
    public var schedule: LearningRateSchedule
    public var beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public let decoupled: Bool
    public var firstMoment: [String: [Float]] = [:]
    public var secondMoment: [String: [Float]] = [:]
    public var kindName: String { decoupled ? "adamw" : "adam" }
    public var parameterRates: [String: Float] = [:]

    public init(schedule: LearningRateSchedule = LearningRateSchedule(base: 1e-4),
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
                decoupled: Bool = false) {
        self.schedule = schedule; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.decoupled = decoupled
    }

    public func update(_ parameters: [Parameter]) {
        Profiler.time(.optimizer) {
            let rate = Float(schedule.rate(at: step))
            let t = Double(step + 1)
            // A one-cycle schedule sets β₁ each step; the bias correction uses the current β₁ (as PyTorch).
            let beta1 = schedule.momentum(at: step).map(Float.init) ?? self.beta1
            let c1 = Float(1 - Foundation.pow(Double(beta1), t)), c2 = Float(1 - Foundation.pow(Double(beta2), t))
            let (b1, b2, eps) = (beta1, beta2, epsilon)
            for p in parameters where p.trainable {
                let scale = parameterRates[p.name] ?? 1
                if scale == 0 { continue }
                let lr = rate * scale
                let wd = p.decays ? weightDecay : 0
                var m = firstMoment.removeValue(forKey: p.name) ?? [Float](repeating: 0, count: p.count)
                var v = secondMoment.removeValue(forKey: p.name) ?? [Float](repeating: 0, count: p.count)
                p.value.withUnsafeMutableBufferPointer { w in
                    p.grad.withUnsafeBufferPointer { g in
                        m.withUnsafeMutableBufferPointer { m in
                            v.withUnsafeMutableBufferPointer { v in
                                let (l2, shrink) = decoupled ? (Float(0), 1 - lr * wd) : (wd, Float(1))
                                for i in 0..<w.count {
                                    w[i] *= shrink
                                    let gi = g[i] + l2 * w[i]
                                    m[i] = b1 * m[i] + (1 - b1) * gi
                                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                    w[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
                                }
                            }
                        }
                    }
                }
                firstMoment[p.name] = m; secondMoment[p.name] = v
            }
            step += 1
        }
    }

    public func stateTensors() -> [(name: String, values: [Float])] {
        firstMoment.keys.sorted().map { ("m/" + $0, firstMoment[$0]!) }
            + secondMoment.keys.sorted().map { ("v/" + $0, secondMoment[$0]!) }
    }

    public func loadStateTensor(name: String, values: [Float]) throws {
        if name.hasPrefix("m/") { firstMoment[String(name.dropFirst(2))] = values }
        else if name.hasPrefix("v/") { secondMoment[String(name.dropFirst(2))] = values }
        else { throw NeuralError.badInput("Adam has no state '\(name)'") }
    }
}
