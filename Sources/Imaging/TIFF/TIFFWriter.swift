import CTIFF
import Foundation
import Storage

/// Writes greyscale TIFF (8- or 16-bit, from `GrayImage.bitDepth`), one or more pages,
/// atomically (a reader never sees a half-written file).
public enum TIFFWriter {
    public enum Compression: Sendable {
        case none, lzw, deflate, packBits
        var code: UInt16 {
            switch self {
            case .none: return UInt16(COMPRESSION_NONE)
            case .lzw: return UInt16(COMPRESSION_LZW)
            case .deflate: return UInt16(COMPRESSION_ADOBE_DEFLATE)
            case .packBits: return UInt16(COMPRESSION_PACKBITS)
            }
        }
    }

    /// Writes one image. `tileSize` (multiple of 16) writes tiles instead of strips.
    public static func write(_ image: GrayImage, to path: String, compression: Compression = .deflate,
                             tileSize: Int? = nil) throws {
        try write(pages: [image], to: path, compression: compression, tileSize: tileSize)
    }

    /// Writes a multi-page file, one directory per image.
    public static func write(pages: [GrayImage], to path: String, compression: Compression = .deflate,
                             tileSize: Int? = nil) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try TIFFFile(path: temporary, mode: "w")
            for image in pages {
                try writePage(image, file: file, compression: compression, tileSize: tileSize)
                guard TIFFWriteDirectory(file.handle) == 1 else { throw file.failure("write directory") }
            }
        }
    }

    private static func writePage(_ image: GrayImage, file: TIFFFile, compression: Compression, tileSize: Int?) throws {
        guard image.bitDepth == 8 || image.bitDepth == 16 else {
            throw ImageError(path: file.path, problem: "can only write 8- or 16-bit greyscale, not \(image.bitDepth)-bit")
        }
        let bytesPerPixel = image.bitDepth / 8
        try file.set(TIFFTAG_IMAGEWIDTH, u32: UInt32(image.width))
        try file.set(TIFFTAG_IMAGELENGTH, u32: UInt32(image.height))
        try file.set(TIFFTAG_BITSPERSAMPLE, u16: UInt16(image.bitDepth))
        try file.set(TIFFTAG_SAMPLESPERPIXEL, u16: 1)
        try file.set(TIFFTAG_SAMPLEFORMAT, u16: UInt16(SAMPLEFORMAT_UINT))
        try file.set(TIFFTAG_PHOTOMETRIC, u16: UInt16(PHOTOMETRIC_MINISBLACK))
        try file.set(TIFFTAG_PLANARCONFIG, u16: UInt16(PLANARCONFIG_CONTIG))
        try file.set(TIFFTAG_COMPRESSION, u16: compression.code)
        try file.set(TIFFTAG_SOFTWARE, string: "netosis")
        if compression == .deflate || compression == .lzw {
            try file.set(TIFFTAG_PREDICTOR, u16: UInt16(PREDICTOR_HORIZONTAL))
        }
        let samples = bytesPerPixel == 1 ? image.pixels.map { UInt8(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
                                         : image.pixels.withUnsafeBytes { Array($0) }
        if let tile = tileSize {
            try file.set(TIFFTAG_TILEWIDTH, u32: UInt32(tile))
            try file.set(TIFFTAG_TILELENGTH, u32: UInt32(tile))
            var block = [UInt8](repeating: 0, count: tile * tile * bytesPerPixel)
            for y0 in stride(from: 0, to: image.height, by: tile) {
                for x0 in stride(from: 0, to: image.width, by: tile) {
                    for i in block.indices { block[i] = 0 }
                    for r in 0..<min(tile, image.height - y0) {
                        let n = min(tile, image.width - x0) * bytesPerPixel
                        let source = ((y0 + r) * image.width + x0) * bytesPerPixel
                        block.replaceSubrange(r * tile * bytesPerPixel..<r * tile * bytesPerPixel + n,
                                              with: samples[source..<source + n])
                    }
                    let tileIndex = TIFFComputeTile(file.handle, UInt32(x0), UInt32(y0), 0, 0)
                    let written = block.withUnsafeMutableBytes {
                        TIFFWriteEncodedTile(file.handle, tileIndex, $0.baseAddress, tmsize_t($0.count))
                    }
                    guard written >= 0 else { throw file.failure("write tile at x=\(x0), y=\(y0)") }
                }
            }
        } else {
            let rowBytes = image.width * bytesPerPixel
            let rowsPerStrip = max(1, min(image.height, 65536 / max(1, rowBytes)))
            try file.set(TIFFTAG_ROWSPERSTRIP, u32: UInt32(rowsPerStrip))
            var strip: UInt32 = 0
            for y0 in stride(from: 0, to: image.height, by: rowsPerStrip) {
                let rows = min(rowsPerStrip, image.height - y0)
                var chunk = Array(samples[y0 * rowBytes..<(y0 + rows) * rowBytes])
                let written = chunk.withUnsafeMutableBytes {
                    TIFFWriteEncodedStrip(file.handle, strip, $0.baseAddress, tmsize_t($0.count))
                }
                guard written >= 0 else { throw file.failure("write strip \(strip)") }
                strip += 1
            }
        }
    }
}
