import CPNG
import CShims
import CTIFF
import CTurboJPEG
import Foundation

/// An 8-bit RGB image (row-major, 3 bytes per pixel): the input of whole-image classification
/// (the celldeath method's transmitted-light photographs). The fluorescence verbs never read
/// these; they keep refusing colour input (`TIFFReader`).
public struct RGBImage: Equatable, Sendable {
    public let width: Int, height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage: \(pixels.count) bytes for \(width)×\(height)×3")
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// The pixel at (x, y) as (r, g, b).
    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// The files this reads, told apart by their first bytes (not by their names).
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG", tiff = "TIFF" }

    /// Reads an 8-bit RGB PNG, JPEG or TIFF. Anything else — another format, a corrupt or
    /// truncated file, 16-bit samples, greyscale, CMYK — is an `ImageError` naming the file and
    /// the problem in one line.
    public static func read(_ path: String) throws -> RGBImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError(path: path, problem: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        switch format(of: data) {
        case .png?: return try readPNG(path)
        case .jpeg?: return try readJPEG(data, path: path)
        case .tiff?: return try readTIFF(path)
        case nil:
            throw ImageError(path: path, problem: data.isEmpty ? "is empty"
                             : "is not a PNG, JPEG or TIFF image (unrecognised first bytes)")
        }
    }

    /// Larger images are refused before any pixel is allocated (a corrupt header can claim anything).
    static let maximumPixels = 1 << 28

    private static func checkSize(_ width: Int, _ height: Int, path: String) throws {
        guard width * height <= maximumPixels else {
            throw ImageError(path: path, problem: "claims \(width)×\(height) pixels, more than this reader takes (2^28)")
        }
    }

    static func format(of data: Data) -> Format? {
        let head = [UInt8](data.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.starts(with: [0x49, 0x49, 0x2A, 0x00]) || head.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        return nil
    }

    // MARK: PNG (libpng's simplified API)

    private static func readPNG(_ path: String) throws -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        func message() -> String {
            withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw ImageError(path: path, problem: "corrupt PNG (\(message()))")
        }
        defer { png_image_free(&image) }
        if image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0 {
            throw ImageError(path: path, problem: "is a 16-bit PNG; this task reads 8-bit RGB images")
        }
        if image.format & UInt32(PNG_FORMAT_FLAG_COLOR) == 0 {
            throw ImageError(path: path, problem: "is a greyscale PNG; this task reads 8-bit RGB images")
        }
        let (width, height) = (Int(image.width), Int(image.height))
        try checkSize(width, height, path: path)
        // An alpha channel, if any, is composited onto black by libpng.
        image.format = UInt32(PNG_FORMAT_RGB)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard ok != 0 else { throw ImageError(path: path, problem: "corrupt PNG (\(message()))") }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    // MARK: JPEG (TurboJPEG)

    private static func readJPEG(_ data: Data, path: String) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw ImageError(path: path, problem: "cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        func problem() -> String { String(cString: tjGetErrorStr2(handle)) }
        return try data.withUnsafeBytes { raw -> RGBImage in
            let bytes = raw.bindMemory(to: UInt8.self).baseAddress!
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
            guard tjDecompressHeader3(handle, bytes, UInt(raw.count), &width, &height, &subsampling, &colourspace) == 0 else {
                throw ImageError(path: path, problem: "corrupt JPEG (\(problem()))")
            }
            switch UInt32(colourspace) {
            case TJCS_GRAY.rawValue:
                throw ImageError(path: path, problem: "is a greyscale JPEG; this task reads 8-bit RGB images")
            case TJCS_CMYK.rawValue, TJCS_YCCK.rawValue:
                throw ImageError(path: path, problem: "is a CMYK JPEG; this task reads 8-bit RGB images (convert it to RGB)")
            default: break
            }
            try checkSize(Int(width), Int(height), path: path)
            var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
            // Warnings (a truncated file decoded in part) are failures too: nothing half-read is used.
            let status = pixels.withUnsafeMutableBufferPointer {
                tjDecompress2(handle, bytes, UInt(raw.count), $0.baseAddress, width, 0, height, Int32(TJPF_RGB.rawValue),
                              TJFLAG_STOPONWARNING)
            }
            guard status == 0 else { throw ImageError(path: path, problem: "corrupt or truncated JPEG (\(problem()))") }
            return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
        }
    }

    // MARK: TIFF (libtiff's RGBA interface, 8-bit RGB only)

    private static func readTIFF(_ path: String) throws -> RGBImage {
        let file = try TIFFFile(path: path, mode: "r")
        let samples = Int(file.u16(TIFFTAG_SAMPLESPERPIXEL) ?? 1), bits = Int(file.u16(TIFFTAG_BITSPERSAMPLE) ?? 1)
        let photometric = file.u16(TIFFTAG_PHOTOMETRIC, defaulted: false).map(Int32.init) ?? PHOTOMETRIC_MINISBLACK
        guard photometric == PHOTOMETRIC_RGB || photometric == PHOTOMETRIC_YCBCR, samples >= 3 else {
            throw ImageError(path: path, problem: "is a greyscale TIFF (\(samples) sample(s) per pixel); this task reads 8-bit RGB images")
        }
        guard bits == 8 else { throw ImageError(path: path, problem: "is a \(bits)-bit TIFF; this task reads 8-bit RGB images") }
        guard let w = file.u32(TIFFTAG_IMAGEWIDTH), let h = file.u32(TIFFTAG_IMAGELENGTH), w > 0, h > 0,
              Int(w) * Int(h) <= maximumPixels else {
            throw ImageError(path: path, problem: "has no usable image size")
        }
        let (width, height) = (Int(w), Int(h))
        var raster = [UInt32](repeating: 0, count: width * height)
        cshims_tiff_clear_error()
        let ok = raster.withUnsafeMutableBufferPointer {
            TIFFReadRGBAImageOriented(file.handle, w, h, $0.baseAddress, ORIENTATION_TOPLEFT, 1)
        }
        guard ok != 0 else { throw ImageError(path: path, problem: "truncated or corrupt image data (\(TIFFFile.lastMessage()))") }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<width * height {   // ABGR in each UInt32 (TIFFGetR/G/B)
            let v = raster[i]
            pixels[3 * i] = UInt8(v & 0xFF); pixels[3 * i + 1] = UInt8((v >> 8) & 0xFF); pixels[3 * i + 2] = UInt8((v >> 16) & 0xFF)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}

// MARK: Writing PNG (libpng, compressed)

extension RGBImage {
    /// This image as PNG bytes (8-bit RGB, zlib-compressed by libpng's simplified API).
    public func pngData() throws -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width); image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        func message() -> String {
            withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        var size = 0
        // First call measures, second writes.
        guard pixels.withUnsafeBytes({ png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }) != 0 else {
            throw ImageError(path: "<png>", problem: "cannot encode PNG (\(message()))")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let ok = bytes.withUnsafeMutableBytes { out in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
        }
        guard ok != 0 else { throw ImageError(path: "<png>", problem: "cannot encode PNG (\(message()))") }
        return Data(bytes.prefix(size))
    }
}
