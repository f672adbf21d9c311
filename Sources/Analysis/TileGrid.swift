/// An image cut into rows × columns of equal rectangular tiles. The paper cuts each 4032×3072 well
/// into 6 rows × 7 columns of 576×512 px (`paper`) and measures clustering tile by tile, because
/// a well's NETotic density varies across it and the ANND depends on density.
public struct TileGrid: Equatable, Codable, Sendable {
    /// Image size in pixels.
    public let imageWidth: Double
    public let imageHeight: Double
    public let rows: Int
    public let columns: Int

    /// Throws unless the size is positive and finite and there is at least one row and column.
    public init(imageWidth: Double, imageHeight: Double, rows: Int, columns: Int) throws {
        guard imageWidth > 0, imageHeight > 0, imageWidth.isFinite, imageHeight.isFinite else {
            throw StatisticsError("tile grid: image size \(imageWidth)×\(imageHeight) is not positive and finite")
        }
        guard rows >= 1, columns >= 1 else {
            throw StatisticsError("tile grid: \(rows) rows × \(columns) columns (need at least 1 × 1)")
        }
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
        self.rows = rows
        self.columns = columns
    }

    /// The paper's: a 4032×3072 well in 6 rows × 7 columns of 576×512 px.
    public static let paper = try! TileGrid(imageWidth: 4032, imageHeight: 3072, rows: 6, columns: 7)

    public var tileWidth: Double { imageWidth / Double(columns) }
    public var tileHeight: Double { imageHeight / Double(rows) }
    public var tileArea: Double { tileWidth * tileHeight }
    public var tilePerimeter: Double { 2 * (tileWidth + tileHeight) }
    public var tileCount: Int { rows * columns }

    /// The tile a point belongs to, by its centre: column ⌊x·columns/width⌋, row ⌊y·rows/height⌋
    /// (a tile holds its left and top edges; a point on the image's right or bottom edge belongs to
    /// the last tile). nil for a point outside the image or with a non-finite coordinate.
    public func tile(containing point: PlanePoint) -> (row: Int, column: Int)? {
        guard point.isFinite, point.x >= 0, point.y >= 0, point.x <= imageWidth, point.y <= imageHeight else { return nil }
        let column = min(Int((point.x * Double(columns) / imageWidth).rounded(.down)), columns - 1)
        let row = min(Int((point.y * Double(rows) / imageHeight).rounded(.down)), rows - 1)
        return (row, column)
    }
}
