import Foundation

/// The sigmoidal dose-response models of the paper (Prism's "log(agonist) vs. response"), on
/// x = log10(concentration):
/// - `fourParameter`: y = bottom + (top − bottom) / (1 + 10^((logEC50 − x)·hill)), parameters
///   [bottom, top, logEC50, hill] ("variable slope");
/// - `normalized`: the same with bottom = 0 and top = 100 fixed, parameters [logEC50, hill]
///   (Prism's "normalized response" model, for data scaled to 0–100 %).
public enum DoseResponseModel: String, CaseIterable, Sendable {
    case fourParameter = "4PL"
    case normalized = "normalized"

    public var parameterNames: [String] {
        switch self {
        case .fourParameter: return ["bottom", "top", "logEC50", "hill"]
        case .normalized: return ["logEC50", "hill"]
        }
    }

    public var parameterCount: Int { parameterNames.count }

    /// Where logEC50 sits in the parameter vector.
    public var logEC50Index: Int { self == .fourParameter ? 2 : 0 }

    /// The curve at x for the parameters (in `parameterNames` order).
    public func value(at x: Double, _ p: [Double]) -> Double {
        let (bottom, top, logEC50, hill) = unpack(p)
        return bottom + (top - bottom) * Self.logistic((x - logEC50) * hill * M_LN10)
    }

    /// ∂value/∂p at x, in `parameterNames` order.
    public func gradient(at x: Double, _ p: [Double]) -> [Double] {
        let (bottom, top, logEC50, hill) = unpack(p)
        let z = (x - logEC50) * hill * M_LN10
        // σ(z) and σ(−z) = 1 − σ(z) each computed directly: no cancellation on either plateau.
        let s = Self.logistic(z), sc = Self.logistic(-z)
        let slope = (top - bottom) * s * sc * M_LN10
        let dLogEC50 = -slope * hill, dHill = slope * (x - logEC50)
        switch self {
        case .fourParameter: return [sc, s, dLogEC50, dHill]
        case .normalized: return [dLogEC50, dHill]
        }
    }

    /// Starting values from the data, as Prism's built-in rules: plateaus at the smallest and
    /// largest dose means, logEC50 where the means cross halfway between them (the middle of the
    /// tested range if they never do), Hill slope ±1 with the sign of the trend.
    public func initialParameters(logConcentrations x: [Double], responses y: [Double]) -> [Double] {
        let means = Self.doseMeans(x, y)
        let low = means.map(\.mean).min() ?? 0, high = means.map(\.mean).max() ?? 100
        let rising = (means.last?.mean ?? 0) >= (means.first?.mean ?? 0)
        let bottom = self == .fourParameter ? low : 0, top = self == .fourParameter ? high : 100
        let half = (bottom + top) / 2
        var logEC50 = ((means.first?.x ?? 0) + (means.last?.x ?? 0)) / 2
        for (a, b) in zip(means, means.dropFirst()) where (a.mean - half) * (b.mean - half) <= 0 && a.mean != b.mean {
            logEC50 = a.x + (half - a.mean) / (b.mean - a.mean) * (b.x - a.x)
            break
        }
        let hill = rising ? 1.0 : -1.0
        switch self {
        case .fourParameter: return [bottom, top, logEC50, hill]
        case .normalized: return [logEC50, hill]
        }
    }

    /// The mean response at each distinct x, by increasing x.
    static func doseMeans(_ x: [Double], _ y: [Double]) -> [(x: Double, mean: Double)] {
        var sums: [Double: (Double, Int)] = [:]
        for (xi, yi) in zip(x, y) { sums[xi, default: (0, 0)].0 += yi; sums[xi, default: (0, 0)].1 += 1 }
        return sums.keys.sorted().map { ($0, sums[$0]!.0 / Double(sums[$0]!.1)) }
    }

    private func unpack(_ p: [Double]) -> (Double, Double, Double, Double) {
        precondition(p.count == parameterCount, "\(rawValue) takes \(parameterCount) parameters, not \(p.count)")
        switch self {
        case .fourParameter: return (p[0], p[1], p[2], p[3])
        case .normalized: return (0, 100, p[0], p[1])
        }
    }

    /// 1/(1 + e^(−z)), without overflow for either sign of z.
    static func logistic(_ z: Double) -> Double {
        if z >= 0 { return 1 / (1 + exp(-z)) }
        let e = exp(z)
        return e / (1 + e)
    }
}
