import Foundation
import Imaging
import TestSupport
import XCTest

/// Hostile TIFFs (issue 8): lying headers, strip tables past the end of the file, decompression
/// bombs, truncated and bit-flipped files, stacks. Each must fail with one line naming the file, in
/// under a second and without taking the memory its header claims — or, where it says so, read.
final class TIFFHostileTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("tiff-hostile") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let memoryLimit = 200 << 20

    /// Reads `path` with the time and peak-memory growth it took.
    func timedRead(_ path: String) -> (result: Result<GrayImage, Error>, seconds: Double, peakGrowth: Int) {
        PeakMemory.reset()
        let before = PeakMemory.bytes(), start = Date()
        let result = Result { try TIFFReader.read(path) }
        return (result, Date().timeIntervalSince(start), PeakMemory.bytes() - before)
    }

    /// Either a one-line ImageError naming the file, or (when `allowRead`) an image; always quick and small.
    func assertContained(_ path: String, allowRead: Bool, expected: String? = nil, label: String,
                         file: StaticString = #filePath, line: UInt = #line) -> GrayImage? {
        let (result, seconds, growth) = timedRead(path)
        XCTAssertLessThan(seconds, 1, "\(label): took \(seconds) s", file: file, line: line)
        XCTAssertLessThan(growth, Self.memoryLimit, "\(label): peak memory grew by \(growth >> 20) MB", file: file, line: line)
        switch result {
        case .success(let image):
            XCTAssertTrue(allowRead, "\(label): read as \(image.width) × \(image.height) instead of being refused", file: file, line: line)
            return image
        case .failure(let error):
            let message = "\(error)"
            XCTAssertTrue(error is ImageError, "\(label): \(type(of: error)): \(message)", file: file, line: line)
            XCTAssertTrue(message.hasPrefix("\(path): "), "\(label): \(message)", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "\(label): \(message)", file: file, line: line)
            if let expected { XCTAssertTrue(message.contains(expected), "\(label): \(message)", file: file, line: line) }
            return nil
        }
    }

    func testCorpusIsRefusedInOneLineQuicklyAndSmall() throws {
        for (path, item) in try HostileTIFF.write(to: directory) {
            _ = assertContained(path, allowRead: false, expected: item.refusal, label: item.name)
        }
    }

    /// A deflate strip that inflates to 1 MB for a 64 × 64 image: decoding stops at the image's 4 kB.
    func testStripInflatingPastTheImageStopsAtItsSize() throws {
        let data = TIFFBytes.file([.init(width: 64, height: 64, compression: 8, blocks: [TIFFBytes.zlibZeros(1 << 20)])])
        try data.write(to: URL(fileURLWithPath: path("overlong.tif")))
        let image = assertContained(path("overlong.tif"), allowRead: true, label: "overlong strip")
        XCTAssertEqual(image, GrayImage(width: 64, height: 64, bitDepth: 8, fill: 0))
        // And one that inflates to less than the image: refused, not padded with zeros.
        let short = TIFFBytes.file([.init(width: 64, height: 64, compression: 8, blocks: [TIFFBytes.zlibZeros(1000)])])
        try short.write(to: URL(fileURLWithPath: path("short.tif")))
        _ = assertContained(path("short.tif"), allowRead: false, expected: "truncated or corrupt image data", label: "short strip")
    }

    /// Two small real files: ours byte by byte (directory first, 8 uncompressed strips), and libtiff's
    /// deflate output (strips first, directory last).
    func realFiles() throws -> [(name: String, data: Data, image: GrayImage)] {
        let image = GrayImage(width: 40, height: 32, bitDepth: 16, pixels: (0..<1280).map { UInt16(($0 * 7919) % 65536) })
        let strips = (0..<4).map { s in
            Data(image.pixels[s * 320..<(s + 1) * 320].flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        }
        let ours = TIFFBytes.file([.init(width: 40, height: 32, bits: 16, rowsPerStrip: 8, blocks: strips)])
        try TIFFWriter.write(image, to: path("libtiff.tif"), compression: .deflate)
        let theirs = try Data(contentsOf: URL(fileURLWithPath: path("libtiff.tif")))
        for data in [ours, theirs] {  // both must be good to start with
            try data.write(to: URL(fileURLWithPath: path("check.tif")))
            XCTAssertEqual(try TIFFReader.read(path("check.tif")), image)
        }
        return [("bytes", ours, image), ("libtiff", theirs, image)]
    }

    /// Cut at many lengths: refused in one line, or (a tail that held nothing needed) the same pixels.
    func testTruncatedAtManyLengths() throws {
        for (name, data, image) in try realFiles() {
            for length in Set(Array(stride(from: 0, to: data.count, by: 37)) + [1, 7, 8, 9, 10, 20, data.count - 1]).sorted() {
                try data.prefix(length).write(to: URL(fileURLWithPath: path("cut.tif")))
                if let back = assertContained(path("cut.tif"), allowRead: true, label: "\(name) cut to \(length) bytes") {
                    XCTAssertEqual(back, image, "\(name) cut to \(length) bytes read with different pixels")
                }
            }
        }
    }

    /// Every single-bit flip of the header and the directory (with its tag values): read, or one line.
    func testBitFlippedHeadersAndDirectories() throws {
        var flips = 0, refused = 0
        for (name, data, _) in try realFiles() {
            let directoryAt = Int(data[4]) | Int(data[5]) << 8 | Int(data[6]) << 16 | Int(data[7]) << 24
            let directoryEnd = name == "bytes" ? directoryAt + 2 + 12 * 9 + 4 + 32 : data.count
            for byte in Array(0..<8) + Array(directoryAt..<directoryEnd) {
                for bit in 0..<8 {
                    var flipped = data
                    flipped[byte] ^= UInt8(1 << bit)
                    try flipped.write(to: URL(fileURLWithPath: path("flip.tif")))
                    flips += 1
                    if assertContained(path("flip.tif"), allowRead: true, label: "\(name): byte \(byte) bit \(bit)") == nil { refused += 1 }
                }
            }
        }
        XCTAssertGreaterThan(flips, 2000)
        XCTAssertGreaterThan(refused, flips / 4, "most flips of a directory should be refused")
    }

    /// A stack is refused unless a page is named; a named page reads.
    func testStackNeedsAPage() throws {
        let pages = (0..<3).map { p in GrayImage(width: 20, height: 10, bitDepth: 8, pixels: (0..<200).map { UInt16((p * 50 + $0) % 256) }) }
        try TIFFWriter.write(pages: pages, to: path("stack.tif"), compression: .lzw)
        _ = assertContained(path("stack.tif"), allowRead: false,
                            expected: "has 3 pages; netosis reads single-page greyscale images (split the stack, e.g. with Fiji)",
                            label: "stack")
        XCTAssertEqual(try TIFFReader.read(path("stack.tif"), page: 0), pages[0])
        XCTAssertEqual(try TIFFReader.read(path("stack.tif"), page: 1), pages[1])
    }

    /// The header probe: sizes and page count without decoding; the same refusals as `read`.
    func testInfoReadsHeadersOnly() throws {
        let image = GrayImage(width: 4032, height: 3072, bitDepth: 16, fill: 300)
        try TIFFWriter.write(image, to: path("well.tif"), compression: .deflate)
        PeakMemory.reset()
        let before = PeakMemory.bytes()
        let info = try TIFFReader.info(path("well.tif"))
        XCTAssertLessThan(PeakMemory.bytes() - before, 8 << 20, "info decoded pixels")
        XCTAssertEqual(info.width, 4032); XCTAssertEqual(info.height, 3072)
        XCTAssertEqual(info.bitDepth, 16); XCTAssertEqual(info.pages, 1)
        let stack = (0..<3).map { _ in GrayImage(width: 20, height: 10, bitDepth: 8, fill: 1) }
        try TIFFWriter.write(pages: stack, to: path("stack.tif"), compression: .none)
        let stackInfo = try TIFFReader.info(path("stack.tif"))
        XCTAssertEqual([stackInfo.width, stackInfo.height, stackInfo.bitDepth, stackInfo.pages], [20, 10, 8, 3])
        for (path, item) in try HostileTIFF.write(to: directory) where item.name != "stack.tif" {
            XCTAssertThrowsError(try TIFFReader.info(path), item.name) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(path): ") && "\(error)".contains(item.refusal), "\(error)")
            }
        }
    }

    /// A blank well (every pixel equal) compresses as far as deflate and LZW go — as one strip, 1022:1
    /// and 1270:1 — and must still be read: the ratio limit sits above what these codecs reach.
    func testBlankWellIsWithinTheCompressionLimit() throws {
        let blank = GrayImage(width: 4032, height: 3072, bitDepth: 16, fill: 0)
        try TIFFWriter.write(blank, to: path("blank.tif"), compression: .none)
        guard let tiffcp = which("tiffcp") else { throw TestSetupError("tiffcp not found: `make setup` installs libtiff-tools") }
        for codec in ["zip", "lzw", "packbits"] {
            let result = try runProgram(tiffcp, ["-c", codec, "-r", "3072", path("blank.tif"), path("one-strip.tif")])
            XCTAssertEqual(result.status, 0, result.output)
            XCTAssertEqual(try TIFFReader.read(path("one-strip.tif")), blank, codec)
        }
    }
}
