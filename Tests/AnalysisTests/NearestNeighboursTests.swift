import Analysis
import Determinism
import XCTest

/// The k-d tree's nearest-neighbour distances against scipy's cKDTree and against brute force.
final class NearestNeighboursTests: XCTestCase {
    func testMatchesScipyCKDTree() throws {
        for c in ClusteringReference.shared.nearest {
            let distances = try NearestNeighbours.distances(planePoints(c.points))
            XCTAssertEqual(distances.count, c.distances.count, c.name)
            for (k, (actual, expected)) in zip(distances, c.distances).enumerated() {
                XCTAssertEqual(actual, expected, accuracy: 1e-9, "\(c.name) point \(k)")
            }
        }
    }

    func testMatchesBruteForceOnRandomSets() throws {
        var random = SplitMix64(seed: 11_4)
        for n in [2, 3, 4, 5, 8, 17, 64, 333] {
            // Uniform, then the same with coordinates rounded to whole pixels (many ties and repeats).
            let uniform = PointPatterns.uniform(n, width: 576, height: 512, &random)
            let pixels = uniform.map { PlanePoint(x: ($0.x / 20).rounded(), y: ($0.y / 20).rounded()) }
            let clustered = PointPatterns.thomas(n, parents: max(1, n / 20), sigma: 4, width: 576, height: 512, &random)
            for (kind, points) in [("uniform", uniform), ("coarse pixels", pixels), ("clustered", clustered)] {
                let tree = try NearestNeighbours.distances(points)
                XCTAssertEqual(tree, bruteForce(points), "\(kind), n = \(n)")
            }
        }
    }

    func testDuplicatesAreAtDistanceZeroAndCollinearSetsWork() throws {
        let p = PlanePoint(x: 7, y: 3)
        XCTAssertEqual(try NearestNeighbours.distances([p, p]), [0, 0])
        XCTAssertEqual(try NearestNeighbours.distances([p, p, p, PlanePoint(x: 9, y: 3)]), [0, 0, 0, 2])
        // All on one vertical line (zero spread along x) and all on one diagonal.
        let vertical = [0.0, 10, 11, 30, 31.5, 100].map { PlanePoint(x: 5, y: $0) }
        XCTAssertEqual(try NearestNeighbours.distances(vertical), [10, 1, 1, 1.5, 1.5, 68.5])
        let diagonal = (0..<50).map { PlanePoint(x: Double($0 * $0), y: Double($0 * $0)) }
        XCTAssertEqual(try NearestNeighbours.distances(diagonal), bruteForce(diagonal))
    }

    func testTwoPointsAndTheQueryOfAnyPoint() throws {
        XCTAssertEqual(try NearestNeighbours.distances([PlanePoint(x: 0, y: 0), PlanePoint(x: 3, y: 4)]), [5, 5])
        var random = SplitMix64(seed: 11_5)
        let points = PointPatterns.uniform(200, width: 100, height: 100, &random)
        let tree = try NearestNeighbours(points)
        for _ in 0..<100 {
            let q = PlanePoint(x: random.nextUnit() * 140 - 20, y: random.nextUnit() * 140 - 20)
            let found = try XCTUnwrap(tree.nearest(to: q))
            XCTAssertEqual(found.distance, points.map { $0.distance(to: q) }.min()!)
            XCTAssertEqual(points[found.index].distance(to: q), found.distance)
        }
        // Leaving a point out finds its nearest other point; with one point, nothing is left.
        XCTAssertEqual(tree.nearest(to: points[7], excluding: 7)?.distance, try NearestNeighbours.distances(points)[7])
        XCTAssertEqual(try NearestNeighbours([points[0]]).nearest(to: points[0], excluding: 0)?.index, nil)
        XCTAssertEqual(try NearestNeighbours([]).nearest(to: points[0])?.index, nil)
    }

    func testRefusesTooFewPointsAndNonFiniteCoordinates() {
        XCTAssertThrowsError(try NearestNeighbours.distances([PlanePoint(x: 1, y: 1)])) {
            XCTAssertEqual("\($0)", "nearest-neighbour distances need at least two points, got 1")
        }
        XCTAssertThrowsError(try NearestNeighbours.distances([]))
        XCTAssertThrowsError(try NearestNeighbours([PlanePoint(x: 1, y: .nan), PlanePoint(x: 0, y: 0)])) {
            XCTAssertEqual("\($0)", "nearest neighbours: a point has a non-finite coordinate")
        }
    }

    func testAverageIsTheMeanDistance() throws {
        let points = [PlanePoint(x: 0, y: 0), PlanePoint(x: 3, y: 4), PlanePoint(x: 3, y: 5)]
        XCTAssertEqual(try AverageNearestNeighbourDistance.of(points), (1 + 1 + 5) / 3.0, accuracy: 1e-15)
    }

    /// n² distances: the definition.
    private func bruteForce(_ points: [PlanePoint]) -> [Double] {
        points.indices.map { i in
            points.indices.filter { $0 != i }.map { points[i].distance(to: points[$0]) }.min()!
        }
    }
}
