import Determinism
import Foundation

/// The phenotype model of `synth --phenotypes` (off by default, so earlier seeds keep their bytes;
/// docs/synthetic.md "Phenotypes"): NETotic nuclei whose shape depends on the well's agonist, with a
/// known overlap, and freeze wells (necrosis by freezing at −80 °C, as in the paper) full of necrotic
/// nuclei. Every parameter is drawn uniformly from a stated range, so the best any classifier can do
/// from the shapes alone — the generator's separability — is computed exactly, not guessed.
public enum Phenotypes {
    /// The shape family a NETotic nucleus is drawn from.
    public enum Morphology: String, Codable, Sendable, CaseIterable {
        /// PMA: large, decondensed, smooth, a faint wide core.
        case pma
        /// A23187 (calcium ionophore): compact, a bright narrow core, sharper edge, coarser texture.
        case a23187
        /// What NETs of either agonist (and DMSO's spontaneous ones) may look like: the overlap.
        case shared
    }

    /// Share of a PMA or A23187 well's NETs drawn from their agonist's own morphology; the rest are
    /// drawn from `shared`, identical for both agonists (the realistic overlap: the paper's CNN
    /// reached ~73% on this task).
    public static let typicalShare = 0.7

    /// Latent shape of a round nucleus: radius (px), core height / plateau level, core SD / radius,
    /// edge softness (px), texture depth.
    public struct Latent: Equatable, Sendable {
        public var radius, core, coreWidth, edge, texture: Double
        var values: [Double] { [radius, core, coreWidth, edge, texture] }
    }

    /// Uniform ranges of the latent shape, per morphology (in `Latent.values` order).
    public static func ranges(_ m: Morphology) -> [ClosedRange<Double>] {
        switch m {
        case .pma: return [11.5...15.0, 0.20...0.55, 0.38...0.52, 1.0...1.5, 0.06...0.16]
        case .a23187: return [8.5...12.0, 0.55...1.00, 0.22...0.36, 0.6...1.0, 0.16...0.28]
        case .shared: return [9.5...13.5, 0.35...0.85, 0.28...0.45, 0.8...1.3, 0.10...0.22]
        }
    }

    /// The morphology mixture of NETs in a well treated with `agonist` (nil: not a phenotype class).
    public static func mixture(_ agonist: Agonist) -> [(Morphology, Double)]? {
        switch agonist {
        case .pma: return [(.pma, typicalShare), (.shared, 1 - typicalShare)]
        case .a23187: return [(.a23187, typicalShare), (.shared, 1 - typicalShare)]
        case .dmso: return [(.shared, 1)]
        case .freeze: return nil
        }
    }

    /// Draws a NET's morphology and latent shape for a well treated with `agonist`.
    static func drawNET(_ rng: inout SynthRandom, agonist: Agonist) -> Latent {
        let mix = mixture(agonist) ?? [(.shared, 1)]
        var m = mix[mix.count - 1].0
        if mix.count > 1 && rng.unit() < mix[0].1 { m = mix[0].0 }
        let v = ranges(m).map { rng.uniform($0.lowerBound, $0.upperBound) }
        return Latent(radius: v[0], core: v[1], coreWidth: v[2], edge: v[3], texture: v[4])
    }

    /// Density of a latent shape under one morphology (product of uniforms).
    static func density(_ s: Latent, _ m: Morphology) -> Double {
        var d = 1.0
        for (v, r) in zip(s.values, ranges(m)) {
            guard r.contains(v) else { return 0 }
            d /= r.upperBound - r.lowerBound
        }
        return d
    }

    /// Density of a latent shape among the NETs of wells treated with `agonist`.
    static func density(_ s: Latent, agonist: Agonist) -> Double {
        (mixture(agonist) ?? []).reduce(0) { $0 + $1.1 * density(s, $1.0) }
    }

    /// The generator's separability of PMA from A23187 NETs: the accuracy of the Bayes-optimal rule
    /// on the latent shapes (exact densities, `pmaShare` the prior share of PMA NETs; a 0.5 threshold
    /// on the posterior), estimated from `draws` seeded draws (SE ≤ 0.5/√draws). An image classifier
    /// sees these shapes through noise, neighbours and illumination: it can approach this, not beat it.
    public static func separability(pmaShare: Double, draws: Int = 200_000, seed: UInt64 = 1) -> Double {
        var rng = SynthRandom(seed: seed, 0x5045_4E4F)
        var correct = 0
        for _ in 0..<draws {
            let isPMA = rng.unit() < pmaShare
            let s = drawNET(&rng, agonist: isPMA ? .pma : .a23187)
            let p = pmaShare * density(s, agonist: .pma), a = (1 - pmaShare) * density(s, agonist: .a23187)
            // Ties (the shared region where the two densities are equal up to the prior) go to the larger prior.
            let sayPMA = p > a || (p == a && pmaShare >= 0.5)
            if sayPMA == isPMA { correct += 1 }
        }
        return Double(correct) / Double(draws)
    }

    /// `separability` with equal priors — the best balanced accuracy — computed once (synth reports it
    /// in its log and in synth.json).
    public static let balancedSeparability = separability(pmaShare: 0.5)

    /// Share of a freeze well's nuclei that are necrotic (the rest: the vehicle's baseline mix).
    public static let necroticShare = 0.85

    /// Freeze wells per plate in a phenotype set: one per 12 wells, at least one, after the plate's
    /// DMSO, PMA and A23187 wells.
    public static func freezeWells(wells: Int) -> Int { max(1, Int((Double(wells) / 12).rounded())) }
}
