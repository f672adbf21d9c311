import Foundation

/// A receiver operating characteristic for binary labels and real scores (higher = more likely
/// positive): the curve scikit-learn's `roc_curve` gives (thresholds at each distinct score,
/// descending, with the (0, 0) start) and the area `roc_auc_score` gives (trapezoids, i.e. the
/// Mann–Whitney probability that a positive outscores a negative, ties counting half), with
/// DeLong's standard error and a normal 95 % interval for the Ogawa method's per-fold AUCs.
public struct ROCCurve: Equatable, Sendable {
    public var falsePositiveRate: [Double]
    public var truePositiveRate: [Double]
    /// Score thresholds (≥) of each point; the first is +∞.
    public var thresholds: [Double]
    public var auc: Double
    /// DeLong et al. (1988) standard error of the AUC.
    public var standardError: Double
    public var positives: Int, negatives: Int

    /// 95 % confidence interval (AUC ± 1.96 SE, clipped to [0, 1]).
    public var interval95: ClosedRange<Double> { max(0, auc - 1.96 * standardError)...min(1, auc + 1.96 * standardError) }

    public init(labels: [Bool], scores: [Double]) throws {
        guard labels.count == scores.count else { throw StatisticsError("\(labels.count) labels but \(scores.count) scores") }
        guard scores.allSatisfy(\.isFinite) else { throw StatisticsError("a score is NaN or infinite") }
        let p = labels.filter { $0 }.count, n = labels.count - p
        guard p > 0, n > 0 else {
            throw StatisticsError("the ROC needs both classes; got \(p) positive and \(n) negative sample(s)")
        }
        positives = p; negatives = n
        // Curve: sort by score descending, a point at the end of each run of equal scores (counts).
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var fps: [Int] = [], tps: [Int] = [], cuts: [Double] = []
        var tp = 0, fp = 0
        for (position, i) in order.enumerated() {
            if labels[i] { tp += 1 } else { fp += 1 }
            if position == order.count - 1 || scores[order[position + 1]] != scores[i] { fps.append(fp); tps.append(tp); cuts.append(scores[i]) }
        }
        // scikit-learn's drop_intermediate: keep the ends and every point where either count's
        // second difference is not zero (a change of slope).
        var keep = Array(fps.indices)
        if fps.count > 2 {
            keep = [0] + (1..<(fps.count - 1)).filter { j in
                fps[j + 1] - 2 * fps[j] + fps[j - 1] != 0 || tps[j + 1] - 2 * tps[j] + tps[j - 1] != 0
            } + [fps.count - 1]
        }
        falsePositiveRate = [0] + keep.map { Double(fps[$0]) / Double(n) }
        truePositiveRate = [0] + keep.map { Double(tps[$0]) / Double(p) }
        thresholds = [.infinity] + keep.map { cuts[$0] }
        // AUC and DeLong's variance from the structural components (placements).
        let pos = labels.indices.filter { labels[$0] }.map { scores[$0] }, neg = labels.indices.filter { !labels[$0] }.map { scores[$0] }
        func ψ(_ x: Double, _ y: Double) -> Double { x > y ? 1 : (x == y ? 0.5 : 0) }
        let v10 = pos.map { x in neg.reduce(0) { $0 + ψ(x, $1) } / Double(n) }
        let v01 = neg.map { y in pos.reduce(0) { $0 + ψ($1, y) } / Double(p) }
        let area = v10.reduce(0, +) / Double(p)
        auc = area
        func variance(_ v: [Double]) -> Double {
            guard v.count > 1 else { return 0 }
            let m = v.reduce(0, +) / Double(v.count)
            return v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)
        }
        standardError = (variance(v10) / Double(p) + variance(v01) / Double(n)).squareRoot()
    }
}
