/// How a whole image is cut into tiles (the celldeath method: a 960×1280 photograph into 4 tiles of
/// 480×640). `count` 2, 4, 6, 8 are grids of 1×2, 2×2, 2×3, 2×4 (rows × columns) of a landscape
/// image; a portrait image takes the transposed grid, so tiles keep the image's orientation.
/// Tiles are ⌊H/rows⌋ × ⌊W/columns⌋; a remainder of a pixel or two at the right and bottom is dropped.
public struct TileLayout: Equatable, Sendable {
    public let rows: Int, columns: Int

    public static let counts = [1, 2, 4, 6, 8]

    public init(rows: Int, columns: Int) {
        precondition(rows > 0 && columns > 0)
        self.rows = rows; self.columns = columns
    }

    /// The grid for `count` tiles of a `width` × `height` image, or nil for an unsupported count.
    public init?(count: Int, width: Int, height: Int) {
        let landscape: (Int, Int)
        switch count {
        case 1: landscape = (1, 1)
        case 2: landscape = (1, 2)
        case 4: landscape = (2, 2)
        case 6: landscape = (2, 3)
        case 8: landscape = (2, 4)
        default: return nil
        }
        (rows, columns) = width >= height ? landscape : (landscape.1, landscape.0)
    }

    public var count: Int { rows * columns }
    public var name: String { "\(rows)x\(columns)" }

    public func tileSize(width: Int, height: Int) -> (height: Int, width: Int) { (height / rows, width / columns) }

    /// The image's tiles in row-major order as [count, h, w, 3] values (0…255, channels last) and
    /// each tile's centre (x, y) in image pixels.
    public func cut(_ image: RGBImage) -> (pixels: [UInt16], centers: [Float]) {
        let (h, w) = tileSize(width: image.width, height: image.height)
        var pixels = [UInt16](repeating: 0, count: count * h * w * 3)
        var centers: [Float] = []
        var k = 0
        for r in 0..<rows {
            for c in 0..<columns {
                let y0 = r * h, x0 = c * w
                for y in 0..<h {
                    let source = ((y0 + y) * image.width + x0) * 3
                    let target = ((k * h + y) * w) * 3
                    for i in 0..<(w * 3) { pixels[target + i] = UInt16(image.pixels[source + i]) }
                }
                centers += [Float(x0) + Float(w - 1) / 2, Float(y0) + Float(h - 1) / 2]
                k += 1
            }
        }
        return (pixels, centers)
    }
}
