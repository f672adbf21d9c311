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
public enum SplitPlanner {
    public static func assign(keys: [String], seed: UInt64, valFraction: Double, testFraction: Double,
                              existing: [String: PatchSplit] = [:]) -> [String: PatchSplit] {
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
