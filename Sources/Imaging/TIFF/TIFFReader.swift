import CTIFF
import Foundation

/// Reads greyscale 8- and 16-bit TIFF: strips or tiles; none, LZW, deflate or PackBits
/// compression (whatever libtiff decodes); multi-page. Anything else is refused with a
/// message naming the file and what it is.
public enum TIFFReader {
    /// Reads one page (directory), 0-based.
    public static func read(_ path: String, page: Int = 0) throws -> GrayImage {
        let file = try TIFFFile(path: path, mode: "r")
        guard page == 0 || TIFFSetDirectory(file.handle, tdir_t(clamping: page)) == 1 else {
            throw ImageError(path: path, problem: "has no page \(page + 1) (it has \(pageCount(file)))")
        }
        return try readCurrentPage(file, page: page)
    }

    /// Reads every page.
    public static func readAll(_ path: String) throws -> [GrayImage] {
        let file = try TIFFFile(path: path, mode: "r")
        var pages: [GrayImage] = []
        repeat {
            pages.append(try readCurrentPage(file, page: pages.count))
        } while TIFFReadDirectory(file.handle) == 1
        return pages
    }

    /// Number of pages in the file.
    public static func pageCount(_ path: String) throws -> Int {
        pageCount(try TIFFFile(path: path, mode: "r"))
    }

    private static func pageCount(_ file: TIFFFile) -> Int { Int(TIFFNumberOfDirectories(file.handle)) }

    /// Checks that the current page is something we can read, then decodes it.
    private static func readCurrentPage(_ file: TIFFFile, page: Int) throws -> GrayImage {
        let where_ = page == 0 ? "" : " (page \(page + 1))"
        func refuse(_ what: String) -> ImageError {
            ImageError(path: file.path, problem: "TIFF\(where_) \(what); expected 8- or 16-bit greyscale")
        }
        guard let width = file.u32(TIFFTAG_IMAGEWIDTH), let height = file.u32(TIFFTAG_IMAGELENGTH),
              width > 0, height > 0 else {
            throw ImageError(path: file.path, problem: "TIFF\(where_) has no image size")
        }
        let samples = file.u16(TIFFTAG_SAMPLESPERPIXEL) ?? 1
        let bits = file.u16(TIFFTAG_BITSPERSAMPLE) ?? 1
        let format = file.u16(TIFFTAG_SAMPLEFORMAT) ?? UInt16(SAMPLEFORMAT_UINT)
        let photometric = file.u16(TIFFTAG_PHOTOMETRIC, defaulted: false) ?? UInt16(PHOTOMETRIC_MINISBLACK)
        let compression = file.u16(TIFFTAG_COMPRESSION) ?? UInt16(COMPRESSION_NONE)

        if photometric == PHOTOMETRIC_PALETTE { throw refuse("is a palette (colour-mapped) image") }
        if photometric == PHOTOMETRIC_RGB || photometric == PHOTOMETRIC_YCBCR || samples == 3 || samples == 4 {
            throw refuse("is RGB (\(samples) samples per pixel)")
        }
        if samples != 1 { throw refuse("has \(samples) samples per pixel") }
        if format == SAMPLEFORMAT_IEEEFP { throw refuse("holds \(bits)-bit floating-point samples") }
        if format == SAMPLEFORMAT_INT { throw refuse("holds signed \(bits)-bit samples") }
        if format != SAMPLEFORMAT_UINT && format != SAMPLEFORMAT_VOID { throw refuse("has sample format \(format)") }
        if bits != 8 && bits != 16 { throw refuse("is \(bits)-bit") }
        if photometric != PHOTOMETRIC_MINISBLACK && photometric != PHOTOMETRIC_MINISWHITE {
            throw refuse("has photometric interpretation \(photometric)")
        }
        if TIFFIsCODECConfigured(compression) != 1 {
            throw ImageError(path: file.path, problem: "TIFF uses compression scheme \(compression), which this libtiff cannot decode")
        }

        var image = GrayImage(width: Int(width), height: Int(height), bitDepth: Int(bits))
        if TIFFIsTiled(file.handle) != 0 {
            try decodeTiles(file, into: &image)
        } else {
            try decodeStrips(file, into: &image)
        }
        if photometric == PHOTOMETRIC_MINISWHITE {
            let top = UInt16((1 << Int(bits)) - 1)
            for i in image.pixels.indices { image.pixels[i] = top - image.pixels[i] }
        }
        return image
    }

    private static func decodeStrips(_ file: TIFFFile, into image: inout GrayImage) throws {
        let bytesPerPixel = image.bitDepth / 8
        let rowsPerStrip = min(Int(file.u32(TIFFTAG_ROWSPERSTRIP) ?? UInt32(image.height)), image.height)
        let strips = Int(TIFFNumberOfStrips(file.handle))
        var buffer = [UInt8](repeating: 0, count: max(Int(TIFFStripSize(file.handle)), rowsPerStrip * image.width * bytesPerPixel))
        for strip in 0..<strips {
            let firstRow = strip * rowsPerStrip
            guard firstRow < image.height else { break }
            let rows = min(rowsPerStrip, image.height - firstRow)
            let needed = rows * image.width * bytesPerPixel
            let got = buffer.withUnsafeMutableBytes {
                TIFFReadEncodedStrip(file.handle, UInt32(strip), $0.baseAddress, tmsize_t(needed))
            }
            guard got >= needed else {
                // Rows, not strip numbers: libtiff's own message (appended) counts strips from 0.
                let bytes = got < 0 ? "" : ", \(got) of \(needed) bytes"
                throw file.failure("truncated or corrupt image data (rows \(firstRow)–\(firstRow + rows - 1) of \(image.height)\(bytes))")
            }
            copy(buffer, rows: rows, columns: image.width, bytesPerPixel: bytesPerPixel,
                 into: &image, x0: 0, y0: firstRow, sourceRowLength: image.width)
        }
    }

    private static func decodeTiles(_ file: TIFFFile, into image: inout GrayImage) throws {
        let bytesPerPixel = image.bitDepth / 8
        guard let tileWidth = file.u32(TIFFTAG_TILEWIDTH).map(Int.init),
              let tileHeight = file.u32(TIFFTAG_TILELENGTH).map(Int.init), tileWidth > 0, tileHeight > 0 else {
            throw ImageError(path: file.path, problem: "tiled TIFF without tile size")
        }
        var buffer = [UInt8](repeating: 0, count: Int(TIFFTileSize(file.handle)))
        for y0 in stride(from: 0, to: image.height, by: tileHeight) {
            for x0 in stride(from: 0, to: image.width, by: tileWidth) {
                let tile = TIFFComputeTile(file.handle, UInt32(x0), UInt32(y0), 0, 0)
                let got = buffer.withUnsafeMutableBytes {
                    TIFFReadEncodedTile(file.handle, tile, $0.baseAddress, tmsize_t($0.count))
                }
                guard got >= buffer.count else {
                    throw file.failure("truncated or corrupt image data (tile at x=\(x0), y=\(y0))")
                }
                copy(buffer, rows: min(tileHeight, image.height - y0), columns: min(tileWidth, image.width - x0),
                     bytesPerPixel: bytesPerPixel, into: &image, x0: x0, y0: y0, sourceRowLength: tileWidth)
            }
        }
    }

    /// Copies a decoded block (native byte order, as libtiff returns it) into the image.
    private static func copy(_ block: [UInt8], rows: Int, columns: Int, bytesPerPixel: Int,
                             into image: inout GrayImage, x0: Int, y0: Int, sourceRowLength: Int) {
        let width = image.width
        block.withUnsafeBytes { raw in
            image.pixels.withUnsafeMutableBufferPointer { out in
                for r in 0..<rows {
                    let destination = (y0 + r) * width + x0
                    if bytesPerPixel == 1 {
                        let source = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + r * sourceRowLength
                        for c in 0..<columns { out[destination + c] = UInt16(source[c]) }
                    } else {
                        let source = raw.baseAddress!.assumingMemoryBound(to: UInt16.self) + r * sourceRowLength
                        (out.baseAddress! + destination).update(from: source, count: columns)
                    }
                }
            }
        }
    }
}
