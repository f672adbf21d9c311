import Determinism

/// The paper's comparison of clustering between two treatments: tiles count-matched
/// (`CountMatching`), then a two-sample Kolmogorov–Smirnov test on the ANNDs of the matched tiles,
/// repeated over random draws of the matching, with every p and their summary reported.
///
/// Each draw also gets a paired t-test on the ANND differences within pairs. The KS test treats
/// the two matched samples as independent, but matching makes them share their count distribution
/// (the main source of ANND spread), so under the null its p-values pile up near 1: on simulated
/// random tiles it rejects under 1 % at α = 0.05. The paired test uses the pairing and is
/// calibrated; the measurements are in docs/analysis.md (Clustering).
public struct CountMatchedComparison: Equatable, Sendable {
    /// One draw of the matching and the tests on it.
    public struct Repetition: Equatable, Sendable {
        public let pairs: [CountMatching.Pair]
        /// KS on the first set's matched ANNDs against the second's.
        public let ks: KolmogorovSmirnov
        /// Paired t on first − second ANND (positive: the first treatment's neighbours are farther).
        public let pairedT: PairedTTest
    }

    /// Tiles given for each treatment.
    public let firstCount: Int
    public let secondCount: Int
    public let matching: CountMatching
    public let seed: UInt64
    public let repetitions: [Repetition]
    /// Summaries of the KS and paired-t p-values over the repetitions.
    public let ks: PValueSummary
    public let pairedT: PValueSummary

    /// The paper repeated the matching and KS test 10 times.
    public static let paperRepetitions = 10

    /// Repetition r draws from SplitMix64(seed: seed, r), so any one can be redone alone.
    /// Throws for no repetition, an empty set, a negative count or non-finite ANND, or a draw that
    /// pairs fewer than two tiles (the count ranges barely overlap or the tolerance is too tight).
    public static func compare(_ first: [CountedANND], _ second: [CountedANND], repetitions: Int = 100,
                               matching: CountMatching = try! CountMatching(), alpha: Double = 0.05,
                               seed: UInt64 = 0) throws -> CountMatchedComparison {
        guard repetitions >= 1 else { throw StatisticsError("count-matched comparison: \(repetitions) repetitions") }
        guard !first.isEmpty, !second.isEmpty else {
            throw StatisticsError("count-matched comparison: a treatment has no tiles (\(first.count) and \(second.count))")
        }
        for tile in first + second where tile.count < 0 || !(tile.annd >= 0 && tile.annd.isFinite) {
            throw StatisticsError("count-matched comparison: a tile has count \(tile.count) and ANND \(tile.annd)")
        }
        let draws = try (0..<repetitions).map { r -> Repetition in
            var random = SplitMix64(seed: seed, UInt64(r))
            let pairs = matching.match(first, second, using: &random)
            guard pairs.count >= 2 else {
                let range = { (set: [CountedANND]) in "\(set.map(\.count).min()!)–\(set.map(\.count).max()!)" }
                throw StatisticsError("count-matched comparison: count matching paired \(pairs.count) tiles "
                                      + "(counts \(range(first)) and \(range(second)), maximum count difference "
                                      + "\(matching.maximumCountDifference.map(String.init) ?? "none"))")
            }
            let a = pairs.map { first[$0.first].annd }, b = pairs.map { second[$0.second].annd }
            return Repetition(pairs: pairs, ks: try KolmogorovSmirnov.test(a, b), pairedT: try PairedTTest.test(a, b))
        }
        return CountMatchedComparison(firstCount: first.count, secondCount: second.count, matching: matching,
                                      seed: seed, repetitions: draws,
                                      ks: try PValueSummary(draws.map(\.ks.pValue), alpha: alpha),
                                      pairedT: try PValueSummary(draws.map(\.pairedT.pValue), alpha: alpha))
    }
}
