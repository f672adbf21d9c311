import Analysis
import Determinism
import Foundation

/// Seeded point patterns in a width × height window, for the clustering simulations: complete
/// spatial randomness, a clustered (Thomas) process and a regular (jittered grid) one.
enum PointPatterns {
    /// n points uniform in the window (CSR given n).
    static func uniform(_ n: Int, width: Double, height: Double, _ random: inout SplitMix64) -> [PlanePoint] {
        (0..<n).map { _ in PlanePoint(x: random.nextUnit() * width, y: random.nextUnit() * height) }
    }

    /// Thomas process given n: `parents` uniform centres, each point a centre plus N(0, σ²) offsets,
    /// wrapped onto the window (a torus) so that no point falls outside.
    static func thomas(_ n: Int, parents: Int, sigma: Double, width: Double, height: Double,
                       _ random: inout SplitMix64) -> [PlanePoint] {
        let centres = uniform(parents, width: width, height: height, &random)
        return (0..<n).map { _ in
            let c = centres[random.nextInt(below: parents)]
            let x = c.x + sigma * normal(&random), y = c.y + sigma * normal(&random)
            return PlanePoint(x: wrap(x, width), y: wrap(y, height))
        }
    }

    /// n points on the cells of a near-square grid filling the window, each moved uniformly by up to
    /// ±`jitter` of a cell: regular, more evenly spread than CSR.
    static func jitteredGrid(_ n: Int, width: Double, height: Double, jitter: Double = 0.3,
                             _ random: inout SplitMix64) -> [PlanePoint] {
        let columns = Int((Double(n) * width / height).squareRoot().rounded(.up))
        let rows = (n + columns - 1) / columns
        let cw = width / Double(columns), ch = height / Double(rows)
        return (0..<n).map { i in
            PlanePoint(x: (Double(i % columns) + 0.5 + jitter * (2 * random.nextUnit() - 1)) * cw,
                       y: (Double(i / columns) + 0.5 + jitter * (2 * random.nextUnit() - 1)) * ch)
        }
    }

    /// A Poisson count with mean λ (inversion; λ up to a few hundred).
    static func poisson(_ lambda: Double, _ random: inout SplitMix64) -> Int {
        let u = random.nextUnit()
        var k = 0, p = exp(-lambda), cumulative = p
        while u > cumulative, k < 10_000 {
            k += 1
            p *= lambda / Double(k)
            cumulative += p
        }
        return k
    }

    /// A standard normal by inverting a uniform in (0, 1).
    static func normal(_ random: inout SplitMix64) -> Double {
        NormalDistribution.quantile((Double(random.next() >> 11) + 0.5) * 0x1.0p-53)!
    }

    private static func wrap(_ v: Double, _ size: Double) -> Double {
        let w = v.truncatingRemainder(dividingBy: size)
        return w < 0 ? w + size : w
    }
}
