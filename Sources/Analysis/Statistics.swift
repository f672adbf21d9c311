import Foundation

/// Summary statistics of a sample, with numpy's conventions (so tables agree with Python analyses):
/// `variance`/`standardDeviation` take numpy's `ddof`, `quantile` is numpy's default ('linear').
/// Each throws on an empty sample or a non-finite value rather than returning NaN.
public enum Statistics {
    public static func mean(_ x: [Double]) throws -> Double {
        try check(x, "mean")
        return x.reduce(0, +) / Double(x.count)
    }

    /// Σ(x − x̄)² / (n − ddof): ddof 0 is the population variance (numpy's default), 1 the sample variance.
    public static func variance(_ x: [Double], ddof: Int = 1) throws -> Double {
        try check(x, "variance")
        guard x.count > ddof else {
            throw StatisticsError("variance is undefined: \(x.count) value\(x.count == 1 ? "" : "s") with ddof \(ddof)")
        }
        let m = x.reduce(0, +) / Double(x.count)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - ddof)
    }

    public static func standardDeviation(_ x: [Double], ddof: Int = 1) throws -> Double {
        try variance(x, ddof: ddof).squareRoot()
    }

    public static func median(_ x: [Double]) throws -> Double {
        try quantile(x, 0.5)
    }

    /// The p-quantile, 0 ≤ p ≤ 1, as numpy.quantile(x, p) (method 'linear', R type 7): position
    /// h = (n − 1)·p in the sorted sample, interpolated between its neighbours.
    public static func quantile(_ x: [Double], _ p: Double) throws -> Double {
        try quantiles(x, [p])[0]
    }

    /// Several quantiles of one sample (sorted once).
    public static func quantiles(_ x: [Double], _ ps: [Double]) throws -> [Double] {
        try check(x, "quantile")
        if let bad = ps.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw StatisticsError("quantile \(bad) is outside 0…1")
        }
        let sorted = x.sorted()
        return ps.map { linear(sorted, $0) }
    }

    /// numpy's `_lerp`: a + (b − a)·t, from b's side when t ≥ 0.5 so that t = 1 gives b exactly.
    static func linear(_ sorted: [Double], _ p: Double) -> Double {
        let h = Double(sorted.count - 1) * p
        let below = min(Int(h.rounded(.down)), sorted.count - 1)
        let above = min(below + 1, sorted.count - 1)
        let t = h - Double(below), a = sorted[below], b = sorted[above]
        let difference = b - a
        return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
    }

    private static func check(_ x: [Double], _ what: String) throws {
        guard !x.isEmpty else { throw StatisticsError("\(what) is undefined: no values") }
        guard x.allSatisfy(\.isFinite) else { throw StatisticsError("\(what) is undefined: a value is not finite") }
    }
}
