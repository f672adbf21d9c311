/// ANND tile by tile, as the paper measures a well: points go to the tile holding their centre,
/// nearest neighbours are searched within the tile only (a tile is its own window), and tiles with
/// fewer than `minimumCount` points are reported as excluded rather than given a noisy ANND.
public struct TiledANND: Equatable, Codable, Sendable {
    public let grid: TileGrid
    public let minimumCount: Int
    /// Every tile of the grid in row-major order (row 0 left to right, then row 1, …).
    public let tiles: [TileANND]

    /// The paper's minimum: tiles with fewer than 20 NETotic nuclei were discarded.
    public static let paperMinimumCount = 20

    /// Tiles with an ANND.
    public var kept: [TileANND] { tiles.filter { $0.annd != nil } }
    public var excluded: [TileANND] { tiles.filter { $0.annd == nil } }
    /// (count, ANND) of the kept tiles, the input of `CountMatchedComparison`.
    public var samples: [CountedANND] { tiles.compactMap(\.sample) }

    /// Throws when `minimumCount` is below 2 (a single point has no neighbour) or a point lies
    /// outside the image or has a non-finite coordinate (naming the first such point).
    public static func measure(_ points: [PlanePoint], grid: TileGrid = .paper,
                               minimumCount: Int = paperMinimumCount) throws -> TiledANND {
        guard minimumCount >= 2 else {
            throw StatisticsError("tiled ANND: the minimum count per tile is \(minimumCount), it must be at least 2")
        }
        var members = [[PlanePoint]](repeating: [], count: grid.tileCount)
        for (i, point) in points.enumerated() {
            guard let (row, column) = grid.tile(containing: point) else {
                throw StatisticsError("tiled ANND: point \(i) at (\(point.x), \(point.y)) is outside the "
                                      + "\(grid.imageWidth)×\(grid.imageHeight) image")
            }
            members[row * grid.columns + column].append(point)
        }
        let tiles = try members.enumerated().map { k, inside -> TileANND in
            let row = k / grid.columns, column = k % grid.columns
            guard inside.count >= minimumCount else {
                return TileANND(row: row, column: column, count: inside.count, annd: nil,
                                exclusion: .tooFewPoints(minimum: minimumCount))
            }
            return TileANND(row: row, column: column, count: inside.count,
                            annd: try AverageNearestNeighbourDistance.of(inside), exclusion: nil)
        }
        return TiledANND(grid: grid, minimumCount: minimumCount, tiles: tiles)
    }
}
