import Analysis
import Determinism
import XCTest

/// Count matching: the pairs it draws, and the tests on matched ANNDs against scipy.
final class CountMatchingTests: XCTestCase {
    private func tiles(_ counts: [Int]) -> [CountedANND] {
        counts.enumerated().map { CountedANND(count: $1, annd: 100 + Double($0)) }
    }

    func testPairsNearestCountsWithinTheCommonRange() throws {
        // Common range 21…60: first keeps 25, 30, 40 (the anchor, 3 tiles), second all 7.
        let first = tiles([20, 25, 30, 40, 90]), second = tiles([21, 25, 25, 31, 33, 50, 60])
        var chosenFor25 = Set<Int>()
        for seed in 0..<20 as Range<UInt64> {
            var random = SplitMix64(seed: seed)
            let pairs = try CountMatching().match(first, second, using: &random)
            // 25 ↔ either 25 (a tie, drawn at random), 30 ↔ 31; 40's nearest free count (33) is 7 away.
            XCTAssertEqual(pairs.count, 2)
            XCTAssertEqual(pairs[0].first, 1)
            XCTAssertEqual(pairs[1], CountMatching.Pair(first: 2, second: 3))
            chosenFor25.insert(pairs[0].second)
            var unlimited = SplitMix64(seed: seed)
            let far = try CountMatching(maximumCountDifference: nil).match(first, second, using: &unlimited)
            XCTAssertEqual(far.count, 3)
            XCTAssertEqual(far[2], CountMatching.Pair(first: 3, second: 4))
        }
        XCTAssertEqual(chosenFor25, [1, 2])
    }

    func testTheSmallerSetIsTheAnchorAndPairsKeepTheCallersOrder() throws {
        let many = tiles([30, 31, 32, 33, 34, 35]), few = tiles([31, 34])
        var r1 = SplitMix64(seed: 3), r2 = SplitMix64(seed: 3)
        let forward = try CountMatching(maximumCountDifference: 0).match(many, few, using: &r1)
        let backward = try CountMatching(maximumCountDifference: 0).match(few, many, using: &r2)
        XCTAssertEqual(forward, [.init(first: 1, second: 0), .init(first: 4, second: 1)])
        XCTAssertEqual(backward, [.init(first: 0, second: 1), .init(first: 1, second: 4)])
        var r3 = SplitMix64(seed: 3)
        XCTAssertEqual(try CountMatching().match([], few, using: &r3), [])
        XCTAssertEqual(try CountMatching().match(tiles([20, 21]), tiles([40, 41]), using: &r3), [])
        XCTAssertThrowsError(try CountMatching(maximumCountDifference: -1)) {
            XCTAssertEqual("\($0)", "count matching: the maximum count difference -1 is negative")
        }
    }

    /// On random sets: no tile is used twice, every pair is within the tolerance and inside the
    /// common range, and every anchor tile left unpaired had no free partner within the tolerance.
    func testInvariantsOnRandomSets() throws {
        var random = SplitMix64(seed: 11_10)
        for trial in 0..<200 {
            let first = tiles((0..<(1 + random.nextInt(below: 30))).map { _ in 20 + random.nextInt(below: 40) })
            let second = tiles((0..<(1 + random.nextInt(below: 30))).map { _ in 25 + random.nextInt(below: 50) })
            let tolerance = trial % 4 == 0 ? nil : trial % 4
            let pairs = try CountMatching(maximumCountDifference: tolerance).match(first, second, using: &random)
            XCTAssertEqual(Set(pairs.map(\.first)).count, pairs.count)
            XCTAssertEqual(Set(pairs.map(\.second)).count, pairs.count)
            let low = max(first.map(\.count).min()!, second.map(\.count).min()!)
            let high = min(first.map(\.count).max()!, second.map(\.count).max()!)
            guard low <= high else { XCTAssertEqual(pairs, []); continue }
            for pair in pairs {
                let a = first[pair.first].count, b = second[pair.second].count
                XCTAssertLessThanOrEqual(abs(a - b), tolerance ?? .max)
                XCTAssertTrue((low...high).contains(a) && (low...high).contains(b))
            }
            let firstInRange = first.filter { (low...high).contains($0.count) }.count
            let secondInRange = second.filter { (low...high).contains($0.count) }.count
            let anchorIsFirst = firstInRange <= secondInRange
            let anchor = anchorIsFirst ? first : second, pool = anchorIsFirst ? second : first
            let pairedAnchor = Set(pairs.map { anchorIsFirst ? $0.first : $0.second })
            let freePool = pool.indices.filter { p in !pairs.contains { (anchorIsFirst ? $0.second : $0.first) == p } }
            XCTAssertEqual(pairs.count, min(firstInRange, secondInRange) - unpairedCount(anchor, pairedAnchor, low, high))
            for a in anchor.indices where (low...high).contains(anchor[a].count) && !pairedAnchor.contains(a) {
                XCTAssertFalse(freePool.contains { abs(pool[$0].count - anchor[a].count) <= (tolerance ?? .max)
                                                   && (low...high).contains(pool[$0].count) },
                               "trial \(trial): anchor tile \(a) left unpaired beside a free partner")
            }
        }
    }

    private func unpairedCount(_ anchor: [CountedANND], _ paired: Set<Int>, _ low: Int, _ high: Int) -> Int {
        anchor.indices.filter { (low...high).contains(anchor[$0].count) && !paired.contains($0) }.count
    }

    func testTestsOnANNDSamplesMatchScipy() throws {
        for c in ClusteringReference.shared.annd_ks {
            let first = try c.first.map { try AverageNearestNeighbourDistance.of(planePoints($0)) }
            let second = try c.second.map { try AverageNearestNeighbourDistance.of(planePoints($0)) }
            for (a, e) in zip(first + second, c.first_annd + c.second_annd) { XCTAssertEqual(a, e, accuracy: 1e-9, c.name) }
            let ks = try KolmogorovSmirnov.test(first, second)
            XCTAssertEqual(ks.statistic, c.ks_statistic, accuracy: 1e-6, c.name)
            assertClose(ks.pValue, c.ks_p_exact, relative: 1e-6, c.name)
            assertClose(ks.pValue, c.ks_p_auto, relative: 1e-6, c.name)
            let k = min(first.count, second.count)
            let t = try PairedTTest.test(Array(first.prefix(k)), Array(second.prefix(k)))
            assertClose(t.t, c.paired_t, relative: 1e-6, c.name)
            assertClose(t.pValue, c.paired_p, relative: 1e-6, c.name)
            XCTAssertEqual(t.degreesOfFreedom, k - 1)
        }
    }

    func testPairedTRefusesDegenerateSamples() {
        XCTAssertThrowsError(try PairedTTest.test([1], [2])) { XCTAssertEqual("\($0)", "paired t-test needs at least two pairs, got 1") }
        XCTAssertThrowsError(try PairedTTest.test([1, 2], [2])) { XCTAssertEqual("\($0)", "paired t-test: 2 values paired with 1") }
        XCTAssertThrowsError(try PairedTTest.test([1, 2, 3], [0, 1, 2])) {
            XCTAssertEqual("\($0)", "paired t-test is undefined: the 3 differences are all 1.0")
        }
    }
}
