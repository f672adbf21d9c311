import Analysis
import Determinism
import XCTest

/// Clark–Evans with Donnelly's edge correction: the numbers against scipy, then its behaviour on
/// simulated random, clustered and regular patterns in the paper's 576×512 tile.
final class ClarkEvansTests: XCTestCase {
    func testMatchesScipy() throws {
        for c in ClusteringReference.shared.clark_evans {
            let test = try ClarkEvans.test(planePoints(c.points), width: c.width, height: c.height)
            XCTAssertEqual(test.count, c.points.count)
            XCTAssertEqual(test.observedMean, c.observed, accuracy: 1e-9, c.name)
            assertClose(test.expectedMean, c.expected, relative: 1e-13, c.name)
            assertClose(test.standardError, c.se, relative: 1e-13, c.name)
            assertClose(test.ratio, c.ratio, relative: 1e-9, c.name)
            assertClose(test.uncorrectedRatio, c.uncorrected_ratio, relative: 1e-9, c.name)
            assertClose(test.z, c.z, relative: 1e-9, c.name)
            assertClose(test.pValue, c.p, relative: 1e-6, c.name)
        }
        let verdicts = try ClusteringReference.shared.clark_evans.map {
            try ClarkEvans.test(planePoints($0.points), width: $0.width, height: $0.height).pattern
        }
        XCTAssertEqual(verdicts, [.random, .random, .clustered, .dispersed])
    }

    func testTheTileFormAgreesWithThePointForm() throws {
        var random = SplitMix64(seed: 11_7)
        let points = PointPatterns.uniform(40, width: 576, height: 512, &random)
        let grid = TileGrid.paper
        let fromPoints = try ClarkEvans.test(points, width: 576, height: 512, alpha: 0.01)
        let fromTile = try ClarkEvans.test(annd: AverageNearestNeighbourDistance.of(points), count: 40,
                                           area: grid.tileArea, perimeter: grid.tilePerimeter, alpha: 0.01)
        XCTAssertEqual(fromPoints, fromTile)
        XCTAssertEqual(fromTile.alpha, 0.01)
        // Without the edge term, R is biased upwards for a random pattern of 40 points in a tile.
        XCTAssertGreaterThan(fromTile.uncorrectedRatio / fromTile.ratio, 1.07)
    }

    /// Complete spatial randomness: 400 patterns of 20 to 100 uniform points; at α = 0.05 the test
    /// must reject 2–9 % of them (issue 11).
    func testFalsePositiveRateOnRandomPatterns() throws {
        var random = SplitMix64(seed: 11_8)
        var rejected = 0, clustered = 0
        let patterns = 400
        for i in 0..<patterns {
            let n = 20 + i % 81
            let test = try ClarkEvans.test(PointPatterns.uniform(n, width: 576, height: 512, &random), width: 576, height: 512)
            if test.pattern != .random { rejected += 1 }
            if test.pattern == .clustered { clustered += 1 }
        }
        let rate = Double(rejected) / Double(patterns)
        print("Clark–Evans on \(patterns) CSR patterns: \(rejected) rejected at α = 0.05 (\(rate)), \(clustered) of them as clustered")
        XCTAssertGreaterThanOrEqual(rate, 0.02)
        XCTAssertLessThanOrEqual(rate, 0.09)
    }

    /// Thomas clusters (a parent per 10 points, σ = 20 px) are clustered and jittered grids
    /// dispersed, each with p < 0.025, from 20 points up.
    func testDetectsClusteredAndRegularPatterns() throws {
        var random = SplitMix64(seed: 11_9)
        var worstClustered = 0.0, worstRegular = 0.0
        for i in 0..<50 {
            let n = 20 + 2 * i
            let thomas = PointPatterns.thomas(n, parents: max(2, n / 10), sigma: 20, width: 576, height: 512, &random)
            let grid = PointPatterns.jitteredGrid(n, width: 576, height: 512, &random)
            let c = try ClarkEvans.test(thomas, width: 576, height: 512)
            let d = try ClarkEvans.test(grid, width: 576, height: 512)
            XCTAssertEqual(c.pattern, .clustered, "n = \(n), R = \(c.ratio), p = \(c.pValue)")
            XCTAssertEqual(d.pattern, .dispersed, "n = \(n), R = \(d.ratio), p = \(d.pValue)")
            XCTAssertLessThan(c.pValue, 0.025)
            XCTAssertLessThan(d.pValue, 0.025)
            worstClustered = max(worstClustered, c.pValue)
            worstRegular = max(worstRegular, d.pValue)
        }
        print("Clark–Evans, 50 patterns each (20–118 points): largest p clustered \(worstClustered), regular \(worstRegular)")
    }

    func testRefusesDegenerateInput() {
        XCTAssertThrowsError(try ClarkEvans.test([PlanePoint(x: 1, y: 1)], width: 10, height: 10)) {
            XCTAssertEqual("\($0)", "nearest-neighbour distances need at least two points, got 1")
        }
        XCTAssertThrowsError(try ClarkEvans.test(annd: 3, count: 1, area: 100, perimeter: 40)) {
            XCTAssertEqual("\($0)", "Clark–Evans test needs at least two points, got 1")
        }
        XCTAssertThrowsError(try ClarkEvans.test(annd: 3, count: 5, area: 0, perimeter: 40))
        XCTAssertThrowsError(try ClarkEvans.test(annd: .nan, count: 5, area: 100, perimeter: 40))
        XCTAssertThrowsError(try ClarkEvans.test(annd: 3, count: 5, area: 100, perimeter: 40, alpha: 1))
    }
}
