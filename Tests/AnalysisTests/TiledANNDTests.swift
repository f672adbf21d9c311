import Analysis
import Determinism
import XCTest

/// Tiling a well and the ANND tile by tile, against the same computed with cKDTree.
final class TiledANNDTests: XCTestCase {
    func testPaperGridIs6By7TilesOf576By512() {
        let grid = TileGrid.paper
        XCTAssertEqual(grid.tileWidth, 576)
        XCTAssertEqual(grid.tileHeight, 512)
        XCTAssertEqual(grid.tileCount, 42)
        XCTAssertEqual(grid.tileArea, 576 * 512)
        XCTAssertEqual(grid.tilePerimeter, 2 * (576 + 512))
        XCTAssertEqual(TiledANND.paperMinimumCount, 20)
    }

    func testPointsGoToTheTileOfTheirCentre() throws {
        let grid = TileGrid.paper
        func tile(_ x: Double, _ y: Double) -> [Int]? { grid.tile(containing: PlanePoint(x: x, y: y)).map { [$0.row, $0.column] } }
        XCTAssertEqual(tile(0, 0), [0, 0])
        XCTAssertEqual(tile(575.99, 511.99), [0, 0])
        XCTAssertEqual(tile(576, 512), [1, 1])            // a tile holds its left and top edges
        XCTAssertEqual(tile(4031.5, 3071.5), [5, 6])
        XCTAssertEqual(tile(4032, 3072), [5, 6])          // the image's far edges belong to the last tiles
        XCTAssertEqual(tile(2000, 1000), [1, 3])
        XCTAssertNil(tile(-0.01, 5))
        XCTAssertNil(tile(5, 3072.01))
        XCTAssertNil(tile(.nan, 5))
        // A grid that does not divide the image evenly: 1000 px in 3 columns.
        let uneven = try TileGrid(imageWidth: 1000, imageHeight: 10, rows: 1, columns: 3)
        XCTAssertEqual(uneven.tile(containing: PlanePoint(x: 333.3, y: 1))?.column, 0)
        XCTAssertEqual(uneven.tile(containing: PlanePoint(x: 333.4, y: 1))?.column, 1)
        XCTAssertEqual(uneven.tile(containing: PlanePoint(x: 666.7, y: 1))?.column, 2)
    }

    func testMatchesScipyTileByTile() throws {
        for c in ClusteringReference.shared.tiled {
            let grid = try TileGrid(imageWidth: c.width, imageHeight: c.height, rows: c.rows, columns: c.columns)
            let tiled = try TiledANND.measure(planePoints(c.points), grid: grid, minimumCount: c.minimum)
            XCTAssertEqual(tiled.tiles.count, c.tiles.count)
            for (actual, expected) in zip(tiled.tiles, c.tiles) {
                let name = "\(c.name) tile (\(expected.row), \(expected.column))"
                XCTAssertEqual([actual.row, actual.column, actual.count], [expected.row, expected.column, expected.count], name)
                if let annd = expected.annd {
                    XCTAssertEqual(try XCTUnwrap(actual.annd, name), annd, accuracy: 1e-9, name)
                    XCTAssertNil(actual.exclusion, name)
                } else {
                    XCTAssertNil(actual.annd, name)
                    XCTAssertEqual(actual.exclusion, .tooFewPoints(minimum: 20), name)
                }
            }
            XCTAssertEqual(tiled.kept.count + tiled.excluded.count, c.rows * c.columns)
            XCTAssertEqual(tiled.samples, tiled.kept.map { CountedANND(count: $0.count, annd: $0.annd!) })
        }
    }

    func testNeighboursAreSearchedWithinTheTileOnly() throws {
        // Two tight pairs straddling the border x = 576: across it each point is 1 px from another,
        // within its own tile the nearest is 100 px away.
        let grid = try TileGrid(imageWidth: 1152, imageHeight: 512, rows: 1, columns: 2)
        let points = [PlanePoint(x: 575.5, y: 100), PlanePoint(x: 576.5, y: 100),
                      PlanePoint(x: 575.5, y: 200), PlanePoint(x: 576.5, y: 200)]
        let tiled = try TiledANND.measure(points, grid: grid, minimumCount: 2)
        XCTAssertEqual(tiled.tiles.map(\.annd), [100, 100])
        XCTAssertEqual(try AverageNearestNeighbourDistance.of(points), 1)   // the whole image, for contrast
    }

    func testAWholeSimulatedWellAtThePaperSettings() throws {
        // 42 tiles with 0 … 82 points each (2 per tile index): those under 20 are excluded, the
        // rest measured; row-major order.
        var random = SplitMix64(seed: 11_6)
        var points: [PlanePoint] = []
        for k in 0..<42 {
            let (row, column) = (k / 7, k % 7)
            points += PointPatterns.uniform(2 * k, width: 576, height: 512, &random)
                .map { PlanePoint(x: $0.x + Double(column) * 576, y: $0.y + Double(row) * 512) }
        }
        let tiled = try TiledANND.measure(points)
        XCTAssertEqual(tiled.tiles.map(\.count), (0..<42).map { 2 * $0 })
        XCTAssertEqual(tiled.tiles.map { $0.row * 7 + $0.column }, Array(0..<42))
        XCTAssertEqual(tiled.excluded.count, 10)
        XCTAssertEqual(tiled.kept.count, 32)
        XCTAssertEqual("\(tiled.excluded[3].exclusion!)", "fewer than 20 points")
        // Denser tiles have nearer neighbours: ANND at 82 points well below ANND at 20.
        XCTAssertLessThan(tiled.kept.last!.annd!, 0.75 * tiled.kept.first!.annd!)
    }

    func testRefusesBadGridsMinimaAndPointsOutsideTheImage() {
        XCTAssertThrowsError(try TileGrid(imageWidth: 0, imageHeight: 10, rows: 1, columns: 1)) {
            XCTAssertEqual("\($0)", "tile grid: image size 0.0×10.0 is not positive and finite")
        }
        XCTAssertThrowsError(try TileGrid(imageWidth: 10, imageHeight: 10, rows: 0, columns: 1))
        XCTAssertThrowsError(try TiledANND.measure([], minimumCount: 1)) {
            XCTAssertEqual("\($0)", "tiled ANND: the minimum count per tile is 1, it must be at least 2")
        }
        XCTAssertThrowsError(try TiledANND.measure([PlanePoint(x: 1, y: 1), PlanePoint(x: 4100, y: 1)])) {
            XCTAssertEqual("\($0)", "tiled ANND: point 1 at (4100.0, 1.0) is outside the 4032.0×3072.0 image")
        }
    }
}
