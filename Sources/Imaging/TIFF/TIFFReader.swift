import CTIFF
import Foundation

/// Reads greyscale 8- and 16-bit TIFF: strips or tiles; none, LZW, deflate or PackBits
/// compression (whatever libtiff decodes). Anything else is refused with one line naming the file
/// and what it is.
///
/// A header is checked against the file before any pixel memory is taken, so a damaged or hostile
/// file is refused instead of allocating what it claims: at most `maxPixelCount` pixels; every strip
/// or tile inside the file; uncompressed ones holding all their pixels; compressed ones claiming at
/// most `maxCompressionRatio` times the file's size. Decoding stops at the image's size.
public enum TIFFReader {
    /// The largest image read: 2^30 pixels (2 GiB in memory). A stitched well is 4032 × 3072 =
    /// 12.4 million; a header claiming more is damaged, not a microscope image.
    public static let maxPixelCount = 1 << 30

    /// Decoded pixel bytes may be at most this many times the file's size. Even a blank well in one
    /// strip compresses less (deflate 1022:1, LZW 1270:1), so a file claiming more is damaged or a
    /// decompression bomb.
    public static let maxCompressionRatio = 2000

    /// Size, depth (of the first page) and page count from the headers alone, no pixels decoded: what
    /// `read` will allocate (width × height × 2 bytes), to check against memory first. Throws what
    /// `read` would for a header it refuses; a stack is reported (pages > 1), not refused.
    public static func info(_ path: String) throws -> (width: Int, height: Int, bitDepth: Int, pages: Int) {
        let file = try TIFFFile(path: path, mode: "r")
        let pages = pageCount(file)
        let layout = try checkedLayout(file, page: 0)
        return (layout.width, layout.height, layout.bitDepth, pages)
    }

    /// Reads a single-page image. A stack is refused (netosis never silently takes its first page)
    /// unless `page` (0-based) names the page to read.
    public static func read(_ path: String, page: Int? = nil) throws -> GrayImage {
        let file = try TIFFFile(path: path, mode: "r")
        let pages = pageCount(file)
        if let page, page != 0 {
            guard page > 0, page < pages, TIFFSetDirectory(file.handle, tdir_t(page)) == 1 else {
                throw ImageError(path: path, problem: "has no page \(page + 1) (it has \(pages))")
            }
        } else if page == nil && pages > 1 {
            throw ImageError(path: path, problem: "has \(pages) pages; netosis reads single-page greyscale images "
                                                  + "(split the stack, e.g. with Fiji)")
        }
        return try decode(file, checkedLayout(file, page: page ?? 0))
    }

    /// Reads every page.
    public static func readAll(_ path: String) throws -> [GrayImage] {
        let file = try TIFFFile(path: path, mode: "r")
        var pages: [GrayImage] = []
        repeat {
            pages.append(try decode(file, checkedLayout(file, page: pages.count)))
        } while TIFFReadDirectory(file.handle) == 1
        return pages
    }

    /// Number of pages in the file.
    public static func pageCount(_ path: String) throws -> Int {
        pageCount(try TIFFFile(path: path, mode: "r"))
    }

    private static func pageCount(_ file: TIFFFile) -> Int { Int(TIFFNumberOfDirectories(file.handle)) }

    /// The current page as decoding will see it, once checked: strips are blocks of whole rows
    /// (`blockWidth == width`), tiles blocks of a fixed size.
    private struct Layout {
        var width: Int, height: Int, bitDepth: Int
        var minIsWhite: Bool
        var tiled: Bool
        var blockWidth: Int, blockHeight: Int
        var bytesPerPixel: Int { bitDepth / 8 }
        var blocksAcross: Int { (width + blockWidth - 1) / blockWidth }
        var blocksDown: Int { (height + blockHeight - 1) / blockHeight }
        /// Rows of pixels in a block: a whole block for tiles, the last strip may be shorter.
        func rows(_ block: Int) -> Int {
            tiled ? blockHeight : min(blockHeight, height - block * blockHeight)
        }
        func name(_ block: Int) -> String {
            let y0 = block / blocksAcross * blockHeight
            return tiled ? "tile at x=\(block % blocksAcross * blockWidth), y=\(y0)" : "rows \(y0)–\(y0 + rows(block) - 1)"
        }
    }

    /// Checks that the current page is something we can read and that its header fits the file.
    private static func checkedLayout(_ file: TIFFFile, page: Int) throws -> Layout {
        let where_ = page == 0 ? "" : " (page \(page + 1))"
        func refuse(_ what: String) -> ImageError {
            ImageError(path: file.path, problem: "TIFF\(where_) \(what); expected 8- or 16-bit greyscale")
        }
        guard let width = file.u32(TIFFTAG_IMAGEWIDTH).map(Int.init), let height = file.u32(TIFFTAG_IMAGELENGTH).map(Int.init),
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
        guard width <= maxPixelCount / height else {
            throw ImageError(path: file.path, problem: "TIFF\(where_) claims \(width) × \(height) pixels; "
                             + "netosis reads at most \(maxPixelCount) pixels (2^30) per image (damaged header?)")
        }

        var layout = Layout(width: width, height: height, bitDepth: Int(bits), minIsWhite: photometric == PHOTOMETRIC_MINISWHITE,
                            tiled: TIFFIsTiled(file.handle) != 0, blockWidth: width, blockHeight: height)
        if layout.tiled {
            guard let tileWidth = file.u32(TIFFTAG_TILEWIDTH), let tileHeight = file.u32(TIFFTAG_TILELENGTH),
                  tileWidth > 0, tileHeight > 0 else {
                throw ImageError(path: file.path, problem: "tiled TIFF without tile size")
            }
            layout.blockWidth = Int(tileWidth); layout.blockHeight = Int(tileHeight)
        } else if let rows = file.u32(TIFFTAG_ROWSPERSTRIP), rows > 0 {  // absent or 0: one strip
            layout.blockHeight = min(Int(rows), height)
        }
        try checkBlocks(file, layout, compressed: compression != COMPRESSION_NONE, where_: where_)
        return layout
    }

    /// Checks the strip or tile table against the file before any pixel memory is taken: it covers
    /// the image, its blocks decode to at most `maxCompressionRatio` × the file's size, each lies
    /// inside the file, and an uncompressed one holds all its pixels.
    private static func checkBlocks(_ file: TIFFFile, _ layout: Layout, compressed: Bool, where_: String) throws {
        func damaged(_ what: String) -> ImageError { ImageError(path: file.path, problem: "truncated or corrupt image data (\(what))") }
        let blocks = Int(layout.tiled ? TIFFNumberOfTiles(file.handle) : TIFFNumberOfStrips(file.handle))
        guard blocks == layout.blocksAcross * layout.blocksDown else {  // both ≤ 2^30: the image is
            throw damaged("\(blocks) \(layout.tiled ? "tiles" : "strips") for an image that needs \(layout.blocksAcross * layout.blocksDown)")
        }
        var status = stat()
        let fileSize = fstat(TIFFFileno(file.handle), &status) == 0 ? Int(status.st_size) : 0
        let blockBytes = saturatingProduct(layout.blockWidth, layout.blockHeight, layout.bytesPerPixel)
        let decoded = layout.tiled ? saturatingProduct(blockBytes, blocks) : layout.width * layout.height * layout.bytesPerPixel
        guard decoded <= saturatingProduct(maxCompressionRatio, fileSize) else {
            guard compressed else { throw damaged("the header claims \(decoded) bytes of pixels, the file has \(fileSize)") }
            throw ImageError(path: file.path, problem: "TIFF\(where_) is damaged or a decompression bomb: its header claims "
                             + "\(decoded) bytes of pixels, more than \(maxCompressionRatio) times the file's \(fileSize) bytes")
        }
        for block in 0..<blocks {
            let offset = TIFFGetStrileOffset(file.handle, UInt32(block)), count = TIFFGetStrileByteCount(file.handle, UInt32(block))
            let (end, overflow) = offset.addingReportingOverflow(count)
            guard !overflow, end <= UInt64(fileSize) else {
                throw damaged("\(layout.name(block)): bytes \(offset)–\(end) lie past the end of the \(fileSize)-byte file")
            }
            let needed = layout.blockWidth * layout.rows(block) * layout.bytesPerPixel
            if !compressed && Int(count) < needed {
                throw damaged("uncompressed \(layout.name(block)) need \(needed) bytes, the file stores \(count)")
            }
        }
    }

    /// a × b × …, or Int.max where that overflows (a hostile header's numbers can).
    private static func saturatingProduct(_ factors: Int...) -> Int {
        factors.reduce(1) { product, factor in
            let (result, overflow) = product.multipliedReportingOverflow(by: factor)
            return overflow ? Int.max : result
        }
    }

    /// Decodes the checked page block by block; libtiff never writes more than a block's size.
    private static func decode(_ file: TIFFFile, _ layout: Layout) throws -> GrayImage {
        var image = GrayImage(width: layout.width, height: layout.height, bitDepth: layout.bitDepth)
        var buffer = [UInt8](repeating: 0, count: layout.blockWidth * layout.blockHeight * layout.bytesPerPixel)
        for block in 0..<layout.blocksAcross * layout.blocksDown {
            let x0 = block % layout.blocksAcross * layout.blockWidth, y0 = block / layout.blocksAcross * layout.blockHeight
            let rows = min(layout.blockHeight, layout.height - y0), columns = min(layout.blockWidth, layout.width - x0)
            // A strip's last rows and a tile's padding: read exactly what the block holds.
            let needed = layout.tiled ? buffer.count : rows * layout.width * layout.bytesPerPixel
            let got = buffer.withUnsafeMutableBytes {
                layout.tiled ? TIFFReadEncodedTile(file.handle, UInt32(block), $0.baseAddress, tmsize_t(needed))
                             : TIFFReadEncodedStrip(file.handle, UInt32(block), $0.baseAddress, tmsize_t(needed))
            }
            guard got >= needed else {
                // Rows, not strip numbers: libtiff's own message (appended) counts strips from 0.
                let bytes = got < 0 ? "" : ", \(got) of \(needed) bytes"
                let what = layout.tiled ? layout.name(block) : "rows \(y0)–\(y0 + rows - 1) of \(layout.height)"
                throw file.failure("truncated or corrupt image data (\(what)\(bytes))")
            }
            copy(buffer, rows: rows, columns: columns, bytesPerPixel: layout.bytesPerPixel,
                 into: &image, x0: x0, y0: y0, sourceRowLength: layout.blockWidth)
        }
        if layout.minIsWhite {
            let top = UInt16((1 << layout.bitDepth) - 1)
            for i in image.pixels.indices { image.pixels[i] = top - image.pixels[i] }
        }
        return image
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
