import Foundation
import Neural

/// fastai's fine-tuning on a network with layer groups (`Model.layerGroups`, ResNets):
/// discriminative rates (`lr_min`: the groups' peaks geometric from lr_min to lr, fastai's
/// `slice(lr_min, lr)`) and `fine_tune`'s two phases — `freeze_epochs` with the body frozen except its
/// BatchNorm (at a tenth of the rate, as `slice(freeze_lr)` gives it) on a one-cycle at `freeze_lr` that
/// peaks at 99 % of its steps, then every group on a new one-cycle at `lr` over the other epochs.
struct FineTuning {
    let settings: ResolvedTrainSettings
    let stepsPerEpoch: Int

    var freezeSteps: Int { (settings.freezeEpochs ?? 0) * stepsPerEpoch }
    var isUsed: Bool { settings.lrMin != nil || freezeSteps > 0 }

    /// Refuses a network without layer groups, naming the keys.
    static func check(_ settings: ResolvedTrainSettings, model: any Model) throws {
        guard settings.lrMin != nil || settings.freezeEpochs != nil else { return }
        guard let groups = model.layerGroups, !groups.isEmpty else {
            throw TrainError("lr_min / freeze_epochs: model '\(model.modelConfig.name)' has no layer groups (fastai's split exists for the ResNets)")
        }
    }

    /// 0 frozen, 1 unfrozen.
    func phase(at step: Int) -> Int { step < freezeSteps ? 0 : 1 }

    /// Sets the optimizer's schedule and per-tensor rates for the phase `step` is in; returns a
    /// line describing it.
    @discardableResult
    func apply(to optimizer: Optimizer, model: any Model, at step: Int) -> String {
        guard isUsed, let members = model.layerGroups else { return "" }
        let groups = (members.map(\.group).max() ?? 0) + 1
        var rates: [String: Float] = [:]
        if phase(at: step) == 0 {
            let rate = settings.freezeLR ?? settings.lr
            optimizer.schedule = LearningRateSchedule(base: rate, kind: cycle(steps: freezeSteps, pctStart: 0.99))
            for m in members where m.group < groups - 1 { rates[m.parameter.name] = m.batchNorm ? 0.1 : 0 }
            optimizer.parameterRates = rates
            return "train: epochs 1–\(settings.freezeEpochs!) with the body frozen (BatchNorm learning), one-cycle peak \(rate)"
        }
        let total = settings.epochs * stepsPerEpoch - freezeSteps
        optimizer.schedule = LearningRateSchedule(base: settings.lr, kind: cycle(steps: total, pctStart: 0.25), offset: freezeSteps)
        var peaks = [Double](repeating: settings.lr, count: groups)
        if let low = settings.lrMin, groups > 1, low > 0 {
            let ratio = settings.lr / low
            peaks = (0..<groups).map { g -> Double in low * Foundation.pow(ratio, Double(g) / Double(groups - 1)) }
        }
        for m in members where peaks[m.group] != settings.lr { rates[m.parameter.name] = Float(peaks[m.group] / settings.lr) }
        optimizer.parameterRates = rates
        let from = freezeSteps > 0 ? "from epoch \(settings.freezeEpochs! + 1) every layer trains; " : ""
        return "train: \(from)layer groups' peak rates " + peaks.map { String(format: "%.3g", $0) }.joined(separator: ", ")
    }

    private func cycle(steps: Int, pctStart: Double) -> LearningRateSchedule.Kind {
        .oneCycle(totalSteps: max(1, steps), pctStart: pctStart, divFactor: 25, finalDivFactor: 1e5, baseMomentum: 0.85, maxMomentum: 0.95)
    }
}
