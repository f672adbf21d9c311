import Foundation

/// Builds classic little-endian TIFF files byte by byte, independent of libtiff, so tests can write
/// what no honest writer would: headers that lie about the image size, strip tables pointing past the
/// end of the file, compressed strips that inflate to far more (or less) than the header says.
public struct TIFFBytes {
    public struct Page {
        public var width: Int, height: Int
        public var bits: Int
        /// 1 none, 8 deflate (zlib).
        public var compression: Int
        /// Strips of this many rows (default: one strip), or tiles of this size when `tile` is set.
        public var rowsPerStrip: Int?
        public var tile: (width: Int, height: Int)?
        /// The stored strips or tiles, in order.
        public var blocks: [Data]
        /// Override the offsets / byte counts written into the table (lying files).
        public var offsets: [Int]?
        public var byteCounts: [Int]?

        public init(width: Int, height: Int, bits: Int = 8, compression: Int = 1, rowsPerStrip: Int? = nil,
                    tile: (width: Int, height: Int)? = nil, blocks: [Data], offsets: [Int]? = nil, byteCounts: [Int]? = nil) {
            self.width = width; self.height = height; self.bits = bits; self.compression = compression
            self.rowsPerStrip = rowsPerStrip; self.tile = tile; self.blocks = blocks
            self.offsets = offsets; self.byteCounts = byteCounts
        }
    }

    /// Header, then per page: its directory, the offset and byte-count arrays, the blocks.
    public static func file(_ pages: [Page]) -> Data {
        var out = Data("II".utf8)
        out.append(le(42, 2)); out.append(le(8, 4))
        for (index, page) in pages.enumerated() {
            let n = page.blocks.count
            let tags = page.tile == nil ? 9 : 10
            let directoryAt = out.count
            let arraysAt = directoryAt + 2 + 12 * tags + 4
            var blockAt = arraysAt + (n > 1 ? 8 * n : 0)
            var offsets: [Int] = []
            for block in page.blocks { offsets.append(blockAt); blockAt += block.count + block.count % 2 }
            let nextDirectory = index + 1 < pages.count ? blockAt : 0
            let offsetValues = page.offsets ?? offsets, countValues = page.byteCounts ?? page.blocks.map(\.count)

            var entries: [(tag: Int, type: Int, values: [Int])] = [
                (256, 4, [page.width]), (257, 4, [page.height]), (258, 3, [page.bits]),
                (259, 3, [page.compression]), (262, 3, [1]), (277, 3, [1]),
            ]
            if let tile = page.tile {
                entries += [(322, 4, [tile.width]), (323, 4, [tile.height]), (324, 4, offsetValues), (325, 4, countValues)]
            } else {
                entries += [(273, 4, offsetValues), (278, 4, [page.rowsPerStrip ?? page.height]), (279, 4, countValues)]
            }
            entries.sort { $0.tag < $1.tag }
            out.append(le(entries.count, 2))
            var arrayAt = arraysAt
            for entry in entries {
                out.append(le(entry.tag, 2)); out.append(le(entry.type, 2)); out.append(le(entry.values.count, 4))
                if entry.values.count > 1 {  // offsets or byte counts: stored after the directory
                    out.append(le(arrayAt, 4)); arrayAt += 4 * entry.values.count
                } else {
                    out.append(le(entry.values[0], entry.type == 3 ? 2 : 4))
                    if entry.type == 3 { out.append(le(0, 2)) }
                }
            }
            out.append(le(nextDirectory, 4))
            for entry in entries where entry.values.count > 1 { for v in entry.values { out.append(le(v, 4)) } }
            for block in page.blocks {
                out.append(block)
                if block.count % 2 == 1 { out.append(0) }
            }
        }
        return out
    }

    /// A valid zlib stream that inflates to `count` zero bytes: fixed-Huffman deflate, one literal
    /// then back-references of 258 bytes (13 bits each, about 160:1).
    public static func zlibZeros(_ count: Int) -> Data {
        var out = Data([0x78, 0x01])
        var accumulator = 0, filled = 0
        func put(_ value: Int, _ bits: Int) {  // deflate packs bits from the least significant end
            accumulator |= value << filled; filled += bits
            while filled >= 8 { out.append(UInt8(accumulator & 0xFF)); accumulator >>= 8; filled -= 8 }
        }
        func code(_ value: Int, _ bits: Int) {  // Huffman codes go most significant bit first
            var reversed = 0
            for i in 0..<bits where value & (1 << i) != 0 { reversed |= 1 << (bits - 1 - i) }
            put(reversed, bits)
        }
        put(1, 1); put(1, 2)  // final block, fixed Huffman
        var left = count
        if left > 0 { code(0x30, 8); left -= 1 }          // literal 0
        while left >= 258 { code(0xC5, 8); code(0, 5); left -= 258 }  // length 258, distance 1
        while left > 0 { code(0x30, 8); left -= 1 }
        code(0, 7)  // end of block
        if filled > 0 { put(0, 8 - filled) }
        let adler = (count % 65521) << 16 | 1  // Adler-32 of zero bytes
        out.append(contentsOf: [24, 16, 8, 0].map { UInt8((adler >> $0) & 0xFF) })
        return out
    }

    static func le(_ value: Int, _ bytes: Int) -> Data {
        Data((0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
    }
}

/// The hostile TIFF corpus: each file, and a phrase netosis's one-line refusal of it must contain.
public enum HostileTIFF {
    public struct Case: Sendable {
        public let name: String
        public let data: Data
        public let refusal: String
    }

    public static let cases: [Case] = {
        typealias Page = TIFFBytes.Page
        let zeros = Data(count: 16)
        return [
            // 150 bytes claiming 200000 × 200000: once an 80 GB allocation and SIGABRT.
            Case(name: "lying-size.tif", data: TIFFBytes.file([Page(width: 200_000, height: 200_000, blocks: [zeros])]),
                 refusal: "netosis reads at most 1073741824 pixels"),
            // Under the pixel limit (900 million), but the file holds 16 bytes of them.
            Case(name: "lying-size-uncompressed.tif", data: TIFFBytes.file([Page(width: 30_000, height: 30_000, blocks: [zeros])]),
                 refusal: "truncated or corrupt image data (the header claims 900000000 bytes of pixels"),
            // Two strips (with one, libtiff replaces a short byte count by its own estimate).
            Case(name: "short-strip.tif",
                 data: TIFFBytes.file([Page(width: 64, height: 64, rowsPerStrip: 32, blocks: [Data(count: 2048), Data(count: 100)])]),
                 refusal: "truncated or corrupt image data (uncompressed rows 32–63 need 2048 bytes, the file stores 100)"),
            Case(name: "strip-count-past-eof.tif",
                 data: TIFFBytes.file([Page(width: 64, height: 64, blocks: [Data(count: 100)], byteCounts: [4096])]),
                 refusal: "past the end of the"),
            Case(name: "strip-offset-past-eof.tif",
                 data: TIFFBytes.file([Page(width: 64, height: 64, blocks: [Data(count: 4096)], offsets: [10_000_000])]),
                 refusal: "past the end of the"),
            // A 6 kB deflate strip for a 20000 × 20000 image (400 MB): a decompression bomb.
            Case(name: "deflate-bomb.tif",
                 data: TIFFBytes.file([Page(width: 20_000, height: 20_000, compression: 8, blocks: [TIFFBytes.zlibZeros(1 << 20)])]),
                 refusal: "decompression bomb"),
            // One 65536 × 65536 tile (4 GB decoded) for a 16 × 16 image.
            Case(name: "huge-tile.tif",
                 data: TIFFBytes.file([Page(width: 16, height: 16, compression: 8, tile: (65536, 65536), blocks: [TIFFBytes.zlibZeros(4096)])]),
                 refusal: "decompression bomb"),
            Case(name: "stack.tif",
                 data: TIFFBytes.file((0..<3).map { _ in Page(width: 16, height: 16, blocks: [Data(count: 256)]) }),
                 refusal: "has 3 pages; netosis reads single-page greyscale images (split the stack, e.g. with Fiji)"),
        ]
    }()

    /// Writes the corpus into `directory`; returns (path, case) pairs.
    public static func write(to directory: URL) throws -> [(path: String, case: Case)] {
        try cases.map { item in
            let url = directory.appendingPathComponent(item.name)
            try item.data.write(to: url)
            return (url.path, item)
        }
    }
}

/// Peak resident memory of this process (VmHWM) in bytes, and a reset of that peak so the next
/// reading measures only what follows (Linux: writing 5 to /proc/self/clear_refs).
public enum PeakMemory {
    public static func bytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return (Int(line.split(separator: " ")[1]) ?? 0) * 1024
        }
        return 0
    }
    public static func reset() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
