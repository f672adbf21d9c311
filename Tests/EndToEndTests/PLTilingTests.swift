import Foundation
import Imaging
import Neural
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// The PL counter on images larger than stage 2's field: an image a whole number of fields wide and
/// high is counted field by field, each field's maps seeing its neighbours' pixels. On an image that
/// repeats one field 2×3 times (so every tile has the image's statistics), each tile's maps equal the
/// whole image's reflect maps cut at the tile, and the count is the sum of stage 2 on those cuts.
final class PLTilingTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("pltiling") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func save(_ yaml: String, _ name: String) throws -> String {
        try WeightIO.save(try SequentialNet(config: try SequentialConfig.parse(yaml: yaml), seed: 3), to: path(name))
        return path(name)
    }

    func testTiledImageIsCountedFieldByField() throws {
        let stage1 = try save("""
            architecture: sequential
            name: s1
            input_size: 8
            input_normalization: image
            layers:
              - conv: {filters: 4, kernel: 3}
              - relu
              - flatten
              - dense: 3
            """, "s1.h5")
        let stage2 = try save("""
            architecture: sequential
            name: s2
            input_channels: 3
            input_size: 20
            input_width: 24
            layers:
              - conv: {filters: 4, kernel: 3}
              - relu
              - globalsumpool
              - dense: 2
            """, "s2.h5")
        // One 24×20 field with blobs, repeated 3 across and 2 down: a 72×40 image.
        let (fw, fh) = (24, 20)
        var field = [UInt16](repeating: 0, count: fw * fh)
        for y in 0..<fh { for x in 0..<fw {
            let d = Double((x - 7) * (x - 7) + (y - 9) * (y - 9)), e = Double((x - 18) * (x - 18) + (y - 4) * (y - 4))
            field[y * fw + x] = UInt16(200 + 3000 * exp(-d / 12) + 1500 * exp(-e / 6) + Double((x * 7 + y * 13) % 17) * 10)
        } }
        let (w, h) = (3 * fw, 2 * fh)
        var image = GrayImage(width: w, height: h)
        for y in 0..<h { for x in 0..<w { image[x, y] = field[(y % fh) * fw + x % fw] } }

        let counter = try PixelLevelCounter(stage1: stage1, stage2: stage2)
        XCTAssertEqual(try counter.layout(height: h, width: w, path: "i"), .tiles(rows: 2, columns: 3))
        XCTAssertEqual(try counter.layout(height: fh, width: fw, path: "i"), .whole(.reflect))
        XCTAssertEqual(try counter.layout(height: fh + 7, width: fw + 7, path: "i"), .whole(.valid))
        XCTAssertThrowsError(try counter.layout(height: h, width: w + 1, path: "odd.tif")) {
            XCTAssertTrue("\($0)".contains("odd.tif: image is 73×40 px") && "\($0)".contains("a whole number of 24×20 fields"), "\($0)")
        }

        var maps = counter.stage1
        maps.border = .reflect
        let whole = try maps.maps(of: image, path: "i")
        XCTAssertEqual(whole.height, h)
        XCTAssertEqual(whole.width, w)
        var expected = [Double](repeating: 0, count: 2)
        for r in 0..<2 { for c in 0..<3 {
            let tile = ImageTile(x: c * fw, y: r * fh, width: fw, height: fh)
            let stats = tile.statistics(of: image), all = image.statistics
            XCTAssertEqual(stats.mean, all.mean, accuracy: 1e-3)
            XCTAssertEqual(stats.std, all.std, accuracy: 1e-3)
            let m = try maps.maps(of: image, tile: tile)
            XCTAssertEqual(m.height, fh)
            XCTAssertEqual(m.width, fw)
            var cut = [Float](repeating: 0, count: fh * fw * 3)
            for y in 0..<fh { for x in 0..<fw { for k in 0..<3 {
                cut[(y * fw + x) * 3 + k] = whole.values[((r * fh + y) * w + c * fw + x) * 3 + k]
            } } }
            let worst = zip(cut, m.values).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-5, "tile (\(r), \(c))")
            let out = cut.withUnsafeBufferPointer { counter.stage2.forward($0.baseAddress!, batch: 1, height: fh, width: fw, training: false) }
            for k in 0..<2 { expected[k] += Double(out[k]) }
        } }
        let counted = try counter.count(image, path: "i")
        for k in 0..<2 { XCTAssertEqual(counted[k], expected[k], accuracy: 1e-4 * max(1, abs(expected[k]))) }
        // A tile with statistics of its own is scaled by them, as prepare scaled each training field.
        var brighter = image
        for y in 0..<fh { for x in 0..<fw { brighter[x, y] = image[x, y] * 2 } }
        let first = ImageTile(x: 0, y: 0, width: fw, height: fh)
        XCTAssertEqual(first.statistics(of: brighter).mean, image.statistics.mean * 2, accuracy: 1e-2 * image.statistics.mean)
    }
}
