import Determinism
import Imaging

/// Assigns whole groups to train/val/test (docs/prepare.md "Splits").
///
/// Rule: the groups to place are ordered by a seeded hash of their key (SplitMix64 keyed by the
/// seed and a stable FNV hash of the key, so the order does not depend on input order); the first
/// round(n·test) go to test, the next round(n·val) to val, the rest to train. With at least three
/// groups, a non-zero fraction gets at least one group and train keeps at least one.
/// Appending: groups already in the file keep their split; only new groups are placed, by the same
/// rule among themselves. Hence every group lives in exactly one split, across any number of appends.
/// Cross-validation (`fold`): the same order is cut into `count` near-equal contiguous chunks; chunk
/// `index` is test, and the round(n·val) groups that follow it (wrapping) are val. The test chunks of
/// folds 0…count-1 of one seed partition the groups, so every group is tested exactly once.
public enum SplitPlanner {
    public static func assign(keys: [String], seed: UInt64, valFraction: Double, testFraction: Double,
                              existing: [String: PatchSplit] = [:],
                              fold: CrossValidationFold? = nil) -> [String: PatchSplit] {
        var result: [String: PatchSplit] = [:]
        var fresh: [String] = []
        for key in Set(keys) {
            if let known = existing[key] { result[key] = known } else { fresh.append(key) }
        }
        func rank(_ key: String) -> UInt64 {
            var rng = SplitMix64(seed: seed, StableHash.of(key))
            return rng.next()
        }
        let ranked: [(key: String, rank: UInt64)] = fresh.map { ($0, rank($0)) }
        let sorted = ranked.sorted { a, b in a.rank != b.rank ? a.rank < b.rank : a.key < b.key }
        let ordered: [String] = sorted.map { $0.key }
        let n = ordered.count
        if let fold {
            let start = fold.index * n / fold.count, end = (fold.index + 1) * n / fold.count
            let nVal = min(Int((Double(n) * valFraction).rounded()), max(n - (end - start) - 1, 0))
            for (i, key) in ordered.enumerated() {
                let after = (i - end + n) % n  // position after the test chunk, wrapping
                result[key] = (start..<end).contains(i) ? .test : (after < nVal ? .val : .train)
            }
            return result
        }
        var nTest = Int((Double(n) * testFraction).rounded())
        var nVal = Int((Double(n) * valFraction).rounded())
        if n >= 3 {
            if testFraction > 0 { nTest = max(nTest, 1) }
            if valFraction > 0 { nVal = max(nVal, 1) }
            while nTest + nVal > n - 1 { if nVal >= nTest && nVal > 0 { nVal -= 1 } else { nTest -= 1 } }
        } else {
            nTest = min(nTest, n); nVal = min(nVal, n - nTest)
        }
        for (i, key) in ordered.enumerated() {
            result[key] = i < nTest ? .test : (i < nTest + nVal ? .val : .train)
        }
        return result
    }
}

/// Fold `index` (0-based) of a `count`-fold cross-validation by group (`prepare --folds --fold`).
public struct CrossValidationFold: Codable, Equatable, Sendable {
    public var count: Int
    public var index: Int
    public init(count: Int, index: Int) { self.count = count; self.index = index }
}
