import Foundation
import XCTest
@testable import Imaging

/// The colour readers (libpng, TurboJPEG, libtiff's RGBA interface) on committed fixtures
/// (tools/make_colour_fixtures.py): exact pixels where the format is lossless, and one line
/// naming the file for everything this task refuses.
final class RGBImageTests: XCTestCase {
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/colour/\(name)").path
    }

    /// R = 30·x, G = 40·y, B = 255 − 20·(x + y) on 8 × 6.
    func expected(_ x: Int, _ y: Int) -> (Int, Int, Int) { (30 * x, 40 * y, 255 - 20 * (x + y)) }

    func testLosslessFormatsGiveThePatternExactly() throws {
        for name in ["rgb.png", "rgba.png", "rgb.tif"] {
            let image = try RGBImage.read(Self.fixture(name))
            XCTAssertEqual(image.width, 8, name); XCTAssertEqual(image.height, 6, name)
            for y in 0..<6 { for x in 0..<8 {
                let (r, g, b) = image[x, y], e = expected(x, y)
                XCTAssertEqual([Int(r), Int(g), Int(b)], [e.0, e.1, e.2], "\(name) at (\(x), \(y))")
            } }
        }
    }

    func testJPEGDecodesCloseToThePattern() throws {
        let image = try RGBImage.read(Self.fixture("rgb.jpg"))
        XCTAssertEqual(image.width, 8); XCTAssertEqual(image.height, 6)
        var worst = 0
        for y in 0..<6 { for x in 0..<8 {
            let (r, g, b) = image[x, y], e = expected(x, y)
            worst = max(worst, abs(Int(r) - e.0), abs(Int(g) - e.1), abs(Int(b) - e.2))
        } }
        XCTAssertLessThanOrEqual(worst, 6, "quality 100, no chroma subsampling")
    }

    func testRefusalsAreOneLineNamingTheFile() {
        let cases: [(String, String)] = [
            ("rgb16.png", "16-bit PNG"), ("grey.png", "greyscale PNG"), ("grey.jpg", "greyscale JPEG"),
            ("cmyk.jpg", "CMYK JPEG"), ("truncated.jpg", "truncated JPEG"), ("corrupt.png", "corrupt PNG"),
            ("missing.png", "no such file"),
        ]
        for (name, phrase) in cases {
            let path = Self.fixture(name)
            XCTAssertThrowsError(try RGBImage.read(path), name) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(path + ": "), "\(name): \(text)")
                XCTAssertTrue(text.contains(phrase), "\(name): \(text)")
                XCTAssertFalse(text.contains("\n"), "\(name): more than one line: \(text)")
            }
        }
    }

    func testOtherFilesAreRecognisedByContentNotName() throws {
        let directory = NSTemporaryDirectory() + "rgb-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A PNG named .jpg reads as the PNG it is; a text file named .png is refused.
        try FileManager.default.copyItem(atPath: Self.fixture("rgb.png"), toPath: directory + "/really-a-png.jpg")
        XCTAssertEqual(try RGBImage.read(directory + "/really-a-png.jpg"), try RGBImage.read(Self.fixture("rgb.png")))
        try "hello".write(toFile: directory + "/text.png", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RGBImage.read(directory + "/text.png")) { XCTAssertTrue("\($0)".contains("not a PNG, JPEG or TIFF")) }
        _ = FileManager.default.createFile(atPath: directory + "/empty.jpg", contents: Data())
        XCTAssertThrowsError(try RGBImage.read(directory + "/empty.jpg")) { XCTAssertTrue("\($0)".contains("is empty")) }
    }
}
