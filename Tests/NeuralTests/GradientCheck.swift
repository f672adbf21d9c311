import Determinism
import XCTest
@testable import Neural

/// ‖a − b‖ / ‖b‖ (the parity tests' measure against a PyTorch reference).
func relativeL2Error(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    var d = 0.0, n = 0.0
    for i in a.indices { d += Double(a[i] - b[i]) * Double(a[i] - b[i]); n += Double(b[i]) * Double(b[i]) }
    return (d / max(n, 1e-30)).squareRoot()
}

/// Central finite differences in Double against an analytic gradient.
struct GradientCheck {
    /// Relative error ‖a − n‖ / max(‖a‖, ‖n‖) over the checked coordinates.
    static func relativeError(_ analytic: [Double], _ numeric: [Double]) -> Double {
        var diff = 0.0, a2 = 0.0, n2 = 0.0
        for i in analytic.indices {
            diff += (analytic[i] - numeric[i]) * (analytic[i] - numeric[i])
            a2 += analytic[i] * analytic[i]; n2 += numeric[i] * numeric[i]
        }
        return diff.squareRoot() / max(a2.squareRoot(), n2.squareRoot(), 1e-12)
    }

    /// Numerical derivative of `loss` w.r.t. each sampled coordinate, reached through `get`/`set`
    /// (closures, so the loss may read the same storage without overlapping accesses).
    static func numeric(indices: [Int], step: Float, get: (Int) -> Float, set: (Int, Float) -> Void,
                        loss: () -> Double) -> [Double] {
        indices.map { i in
            let original = get(i)
            set(i, original + step)
            let plus = loss()
            set(i, original - step)
            let minus = loss()
            set(i, original)
            return (plus - minus) / (2 * Double(step))
        }
    }

    static func numeric(_ p: Parameter, indices: [Int], step: Float, loss: () -> Double) -> [Double] {
        numeric(indices: indices, step: step, get: { p.value[$0] }, set: { p.value[$0] = $1 }, loss: loss)
    }

    /// Up to `limit` indices spread over 0..<count (deterministic).
    static func sample(_ count: Int, limit: Int = 40, seed: UInt64 = 7) -> [Int] {
        if count <= limit { return Array(0..<count) }
        var g = SplitMix64(seed: seed, skipping: 1)
        var set = Set<Int>()
        while set.count < limit { set.insert(Int(g.next() % UInt64(count))) }
        return set.sorted()
    }

    /// Σ out·r in Double (the scalar whose gradient w.r.t. out is r).
    static func dot(_ out: UnsafePointer<Float>, _ r: [Float], count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(out[i]) * Double(r[i]) }
        return s
    }
}

func randomArray(_ count: Int, seed: UInt64, scale: Float = 1, awayFromZero: Float = 0) -> [Float] {
    var g = SplitMix64(seed: seed, skipping: 1)
    return (0..<count).map { _ in
        var v = scale * g.nextNormal()
        if awayFromZero > 0 && abs(v) < awayFromZero { v += v < 0 ? -awayFromZero : awayFromZero }
        return v
    }
}
