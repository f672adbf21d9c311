import Foundation
import Imaging
import TestSupport
import XCTest

final class TIFFRoundTripTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("tiff") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A stitched well: 16-bit 4032×3072, deflate, every pixel compared; tiffinfo confirms the header.
    func testFullWellSixteenBitRoundTrip() throws {
        let width = 4032, height = 3072
        var pixels = [UInt16](repeating: 0, count: width * height)
        var state: UInt32 = 12345
        for i in pixels.indices {  // structured + pseudo-random so compression cannot cheat
            state = state &* 1664525 &+ 1013904223
            pixels[i] = UInt16(truncatingIfNeeded: (i % width) * 13 + Int(state >> 24))
        }
        let image = GrayImage(width: width, height: height, bitDepth: 16, pixels: pixels)
        try TIFFWriter.write(image, to: path("well.tif"), compression: .deflate)
        let back = try TIFFReader.read(path("well.tif"))
        XCTAssertEqual(back.width, width)
        XCTAssertEqual(back.height, height)
        XCTAssertEqual(back.bitDepth, 16)
        XCTAssertTrue(back.pixels == pixels, "pixels differ after round trip")

        guard let tiffinfo = which("tiffinfo") else { throw TestSetupError("tiffinfo not found: `make setup` installs libtiff-tools") }
        let info = try runProgram(tiffinfo, [path("well.tif")])
        XCTAssertTrue(info.output.contains("Image Width: 4032 Image Length: 3072"), info.output)
        XCTAssertTrue(info.output.contains("Bits/Sample: 16"), info.output)
        XCTAssertTrue(info.output.contains("AdobeDeflate"), info.output)
    }

    /// Every supported layout and codec: strips and tiles; none, LZW, deflate, PackBits; 8 and 16 bit.
    func testCodecsLayoutsAndBitDepths() throws {
        let width = 70, height = 45  // not multiples of the 16-pixel tile size on purpose
        for bits in [8, 16] {
            let top = bits == 8 ? 255 : 65535
            let pixels = (0..<(width * height)).map { UInt16(($0 * 7919) % (top + 1)) }
            let image = GrayImage(width: width, height: height, bitDepth: bits, pixels: pixels)
            for compression: TIFFWriter.Compression in [.none, .lzw, .deflate, .packBits] {
                for tile: Int? in [nil, 16] {
                    let name = path("c-\(bits)-\(compression)-\(tile ?? 0).tif")
                    try TIFFWriter.write(image, to: name, compression: compression, tileSize: tile)
                    let back = try TIFFReader.read(name)
                    XCTAssertEqual(back, image, "\(bits)-bit \(compression) tile=\(String(describing: tile))")
                }
            }
        }
    }

    func testMultiPage() throws {
        let pages = (0..<3).map { p in GrayImage(width: 20, height: 10, bitDepth: 16, pixels: (0..<200).map { UInt16(p * 1000 + $0) }) }
        try TIFFWriter.write(pages: pages, to: path("stack.tif"), compression: .lzw)
        XCTAssertEqual(try TIFFReader.pageCount(path("stack.tif")), 3)
        XCTAssertEqual(try TIFFReader.readAll(path("stack.tif")), pages)
        XCTAssertEqual(try TIFFReader.read(path("stack.tif"), page: 2), pages[2])
        XCTAssertThrowsError(try TIFFReader.read(path("stack.tif"), page: 5)) {
            XCTAssertTrue("\($0)".contains("has no page 6 (it has 3)"), "\($0)")
        }
    }

    /// Big-endian files and MINISWHITE photometric, built byte by byte (independent of libtiff's writer).
    func testHandBuiltBigEndianAndMinIsWhite() throws {
        let values: [UInt16] = [0, 1, 300, 65535, 4096, 7]
        try RawTIFF(width: 3, height: 2, bits: 16, bigEndian: true, samples: values).data.write(to: URL(fileURLWithPath: path("be.tif")))
        XCTAssertEqual(try TIFFReader.read(path("be.tif")).pixels, values)
        try RawTIFF(width: 3, height: 2, bits: 8, photometric: 0, samples: [0, 10, 255, 1, 2, 3]).data
            .write(to: URL(fileURLWithPath: path("white.tif")))
        XCTAssertEqual(try TIFFReader.read(path("white.tif")).pixels, [255, 245, 0, 254, 253, 252])
    }
}

/// The 27 real SYTOX fields: sizes and pixel statistics must equal what an independent reader
/// (tools/tiff_stats.py: struct + numpy, no libtiff) computed into the committed fixture.
final class RealSampleTIFFTests: XCTestCase {
    func testAllRealFieldsMatchIndependentStatistics() throws {
        guard let sample = try sharedDataDirectory("netosis-sample/tiff") else {
            throw XCTSkip("../shared/data/netosis-sample not present (fails under CI)")
        }
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/real-field-stats.csv")
        let rows = try String(contentsOf: fixture, encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 27)
        let files = try FileManager.default.contentsOfDirectory(atPath: sample.path).filter { $0.hasSuffix(".tif") }
        XCTAssertEqual(Set(files), Set(rows.map { String($0.split(separator: ",")[0]) }))
        for row in rows {
            let f = row.split(separator: ",").map(String.init)
            let image = try TIFFReader.read(sample.appendingPathComponent(f[0]).path)
            XCTAssertEqual(image.width, Int(f[1]), f[0])
            XCTAssertEqual(image.height, Int(f[2]), f[0])
            XCTAssertEqual(image.bitDepth, Int(f[3]), f[0])
            var minimum = Int.max, maximum = 0, sum = 0, squares = 0
            for p in image.pixels { let v = Int(p); minimum = min(minimum, v); maximum = max(maximum, v); sum += v; squares += v * v }
            XCTAssertEqual(minimum, Int(f[4]), f[0])
            XCTAssertEqual(maximum, Int(f[5]), f[0])
            XCTAssertEqual(sum, Int(f[6]), f[0])
            XCTAssertEqual(squares, Int(f[7]), f[0])
            XCTAssertEqual(Int(image[100, 200]), Int(f[8]), "\(f[0]) pixel (x=100, y=200)")
            XCTAssertEqual(Int(image[671, 511]), Int(f[9]), "\(f[0]) last pixel")
        }
    }
}

/// Files that must be refused with one line naming the file and the problem.
final class TIFFBadInputTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("tiff-bad") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func assertRefused(_ data: Data?, name: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let target = directory.appendingPathComponent(name).path
        if let data { try data.write(to: URL(fileURLWithPath: target)) }
        XCTAssertThrowsError(try TIFFReader.read(target), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(error is ImageError, file: file, line: line)
            XCTAssertEqual(message, "\(target): \(expected)", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), file: file, line: line)
        }
    }

    func testMissingPath() throws {
        try assertRefused(nil, name: "absent.tif", "no such file")
    }

    func testTextFileNamedTif() throws {
        try assertRefused(Data("plate map: B03 = PMA 50 nM\n".utf8), name: "notes.tif", "not a TIFF file (no TIFF signature)")
    }

    func testRGB() throws {
        let rgb = RawTIFF(width: 4, height: 2, bits: 8, samplesPerPixel: 3, photometric: 2, samples: [UInt16](repeating: 9, count: 24))
        try assertRefused(rgb.data, name: "rgb.tif", "TIFF is RGB (3 samples per pixel); expected 8- or 16-bit greyscale")
    }

    func testTwelveBitFloatAndPalette() throws {
        try assertRefused(RawTIFF(width: 2, height: 2, bits: 12, samples: [1, 2, 3, 4]).data, name: "12.tif",
                          "TIFF is 12-bit; expected 8- or 16-bit greyscale")
        try assertRefused(RawTIFF(width: 2, height: 1, bits: 32, sampleFormat: 3, samples: [0, 0, 0, 0]).data, name: "f.tif",
                          "TIFF holds 32-bit floating-point samples; expected 8- or 16-bit greyscale")
        try assertRefused(RawTIFF(width: 2, height: 2, bits: 8, photometric: 3, samples: [0, 1, 2, 3]).data, name: "pal.tif",
                          "TIFF is a palette (colour-mapped) image; expected 8- or 16-bit greyscale")
    }

    /// A real, valid file cut short: the strip data ends early.
    func testTruncatedTIFF() throws {
        let full = directory.appendingPathComponent("full.tif").path
        let image = GrayImage(width: 300, height: 200, bitDepth: 16, pixels: (0..<60000).map { UInt16($0 % 4000) })
        try TIFFWriter.write(image, to: full, compression: .none)
        // Our writer puts pixel strips first and the directory last; rebuild a file whose directory
        // survives but whose pixel data is cut, as a copy interrupted mid-transfer leaves it.
        let raw = RawTIFF(width: 300, height: 200, bits: 16, samples: image.pixels)
        let data = raw.data
        let cut = data.prefix(raw.headerAndDirectorySize + 300 * 2 * 150)  // 150 of 200 rows
        let target = directory.appendingPathComponent("cut.tif").path
        try cut.write(to: URL(fileURLWithPath: target))
        XCTAssertThrowsError(try TIFFReader.read(target)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("\(target): truncated or corrupt image data"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
        // And a file cut inside its header.
        try assertRefused(data.prefix(5), name: "stub.tif", "not a TIFF file (5 bytes, too short for a TIFF header)")
    }
}

/// A minimal classic-TIFF writer, byte by byte, independent of libtiff: header, one IFD, the
/// out-of-line tag values, then the pixels as a single uncompressed strip. Used to make files
/// libtiff's writer won't (RGB, 12-bit, float, palette, big-endian, min-is-white).
struct RawTIFF {
    var width: Int, height: Int, bits: Int
    var samplesPerPixel = 1
    var photometric = 1
    var sampleFormat: Int? = nil
    var bigEndian = false
    var samples: [UInt16]

    init(width: Int, height: Int, bits: Int, samplesPerPixel: Int = 1, photometric: Int = 1,
         sampleFormat: Int? = nil, bigEndian: Bool = false, samples: [UInt16]) {
        self.width = width; self.height = height; self.bits = bits; self.samplesPerPixel = samplesPerPixel
        self.photometric = photometric; self.sampleFormat = sampleFormat; self.bigEndian = bigEndian; self.samples = samples
    }

    private var isPalette: Bool { photometric == 3 }
    private var entryCount: Int { isPalette ? 12 : 11 }
    /// Out-of-line values: the BitsPerSample array and, for palette images, the colour map.
    private var extraBytes: [UInt16] {
        var values: [UInt16] = []
        if samplesPerPixel > 1 { values += [UInt16](repeating: UInt16(bits), count: samplesPerPixel) }
        if isPalette {
            let levels = 1 << bits
            for i in 0..<(3 * levels) { values.append(UInt16((i % levels) * 257)) }
        }
        return values
    }
    /// Offset of the first pixel byte: everything before it is header, directory and tag values.
    var headerAndDirectorySize: Int { 8 + 2 + 12 * entryCount + 4 + 2 * extraBytes.count }

    var data: Data {
        var out = Data()
        let big = bigEndian
        func bytes(_ value: UInt32, _ count: Int) -> [UInt8] {
            let little: [UInt8] = (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
            return big ? little.reversed() : little
        }
        func u16(_ v: Int) { out.append(contentsOf: bytes(UInt32(v), 2)) }
        func u32(_ v: Int) { out.append(contentsOf: bytes(UInt32(v), 4)) }
        var pixelBytes = Data()
        for s in samples {
            switch bits {
            case 8: pixelBytes.append(UInt8(truncatingIfNeeded: s))
            case 16: pixelBytes.append(contentsOf: bytes(UInt32(s), 2))
            default: pixelBytes.append(contentsOf: [UInt8](repeating: 0, count: max(1, bits / 8)))
            }
        }
        out.append(contentsOf: bigEndian ? Array("MM".utf8) : Array("II".utf8)); u16(42); u32(8)
        let extraAt = 8 + 2 + 12 * entryCount + 4
        let colorMapAt = extraAt + 2 * (samplesPerPixel > 1 ? samplesPerPixel : 0)
        func entry(_ tag: Int, _ type: Int, _ count: Int, _ value: Int) {
            u16(tag); u16(type); u32(count)
            if type == 3 && count == 1 { u16(value); u16(0) } else { u32(value) }
        }
        u16(entryCount)
        entry(256, 4, 1, width)
        entry(257, 4, 1, height)
        if samplesPerPixel == 1 { entry(258, 3, 1, bits) } else { entry(258, 3, samplesPerPixel, extraAt) }
        entry(259, 3, 1, 1)
        entry(262, 3, 1, photometric)
        entry(273, 4, 1, headerAndDirectorySize)
        entry(277, 3, 1, samplesPerPixel)
        entry(278, 4, 1, height)
        entry(279, 4, 1, pixelBytes.count)
        entry(284, 3, 1, 1)
        if isPalette { entry(320, 3, 3 << bits, colorMapAt) }
        entry(339, 3, 1, sampleFormat ?? 1)
        u32(0)  // no next IFD
        for v in extraBytes { u16(Int(v)) }
        out.append(pixelBytes)
        return out
    }
}
