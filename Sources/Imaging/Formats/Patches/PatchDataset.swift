import Foundation
import Storage

/// A labelled patch set, from patches.h5 or from memory. Labels, splits and image indices are
/// held in memory (a few bytes per patch); pixels are read on demand, one patch at a time, by
/// hyperslab into caller-owned memory.
public final class PatchDataset {
    public let count: Int
    /// The side of a square patch (= `height`; what the fluorescence verbs use).
    public var patchSize: Int { height }
    /// Sample geometry: height × width × channels, channels last (format 4 adds the channel axis
    /// and non-square tiles; older files are S × S × 1).
    public let height: Int, width: Int, channels: Int
    /// Channel names (the `channels` attribute; `["intensity"]` for a single-channel file).
    public let channelNames: [String]
    /// Values per sample.
    public var sampleSize: Int { height * width * channels }
    /// Whether samples are square single-channel patches (what the nucleus classifier takes).
    public var isSquareMonochrome: Bool { height == width && channels == 1 }
    /// The task the file feeds (`task` attribute): `nucleus-classification` (prepare) or
    /// `image-classification` (tiles).
    public let task: String
    public let labels: [Int8]
    public let split: [UInt8]
    public let imageIndex: [Int32]
    public let classNames: [String]
    /// Source image names (`/images/name`), indexed by `imageIndex`; empty for in-memory data.
    public let imageNames: [String]
    /// Source image paths (`/images/path`), indexed like `imageNames`; empty for in-memory data.
    public let imagePaths: [String]
    /// Each source image's pixel mean and standard deviation (`/images/mean`, `/images/std`, format
    /// version 3); empty for older files and in-memory data.
    public let imageMean: [Float], imageStd: [Float]
    /// Each source image's named fields (`/images/fields`, JSON objects, e.g. line, treatment,
    /// experiment of a tiles file), indexed by `imageIndex`; empty when the file has none.
    public let fields: [[String: String]]
    /// The file it came from (nil for in-memory data).
    public let path: String?
    /// The file's provenance (nil for in-memory data).
    public let header: FileHeader?

    /// Whether `/patches` is [N, H, W, C] (format 4 tiles) rather than [N, S, S].
    private let hasChannelAxis: Bool
    private enum Pixels { case file(HDF5File, HDF5Dataset), memory([UInt16]) }
    private let pixels: Pixels

    /// Opens patches.h5 read-only and checks it against the contract.
    public init(path: String) throws {
        let (file, header) = try FileHeader.open(path, expecting: PatchesSchema.format)
        func bad(_ problem: String) -> ImageError { ImageError(path: path, problem: problem) }
        for name in [PatchesSchema.patches, PatchesSchema.labels, PatchesSchema.split] where !file.exists(name) {
            throw bad("missing dataset /\(name)")
        }
        let data = try file.dataset(PatchesSchema.patches)
        let shape = try data.shape()
        guard (shape.count == 3 && shape[1] == shape[2]) || shape.count == 4, shape.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw bad("/patches has shape \(shape), expected [N, S, S] or [N, H, W, C]")
        }
        let channels = shape.count == 4 ? shape[3] : 1
        var channelNames = ["intensity"]
        if file.hasAttribute("channels") {
            guard let names = try? JSONDecoder().decode([String].self, from: Data(try file.stringAttribute("channels").utf8)),
                  names.count == channels else {
                throw bad("attribute 'channels' does not name the \(channels) channel(s) of /patches")
            }
            channelNames = names
        } else if channels > 1 {
            channelNames = (0..<channels).map { "channel\($0)" }
        }
        let labels: [Int8] = try file.read(PatchesSchema.labels)
        let split: [UInt8] = try file.read(PatchesSchema.split)
        let imageIndex: [Int32] = file.exists(PatchesSchema.imageIndex)
            ? try file.read(PatchesSchema.imageIndex) : [Int32](repeating: -1, count: shape[0])
        guard labels.count == shape[0], split.count == shape[0], imageIndex.count == shape[0] else {
            throw bad("/labels, /split, /image_index and /patches disagree on N (\(labels.count), \(split.count), \(imageIndex.count), \(shape[0]))")
        }
        if let i = split.firstIndex(where: { $0 > 2 }) { throw bad("/split[\(i)] = \(split[i]); expected 0, 1 or 2") }
        let names = try PatchesSchema.classNames(of: file)
        if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= names.count }) {
            throw bad("/labels[\(i)] = \(labels[i]) is not a class index (classes: \(names))")
        }
        let imageNames = file.exists("\(PatchesSchema.images)/name")
            ? try file.dataset("\(PatchesSchema.images)/name").readStrings() : []
        if !imageNames.isEmpty, let i = imageIndex.firstIndex(where: { $0 < 0 || Int($0) >= imageNames.count }) {
            throw bad("/image_index[\(i)] = \(imageIndex[i]) but /images has \(imageNames.count) rows")
        }
        self.hasChannelAxis = shape.count == 4
        self.count = shape[0]; self.height = shape[1]; self.width = shape[2]; self.channels = channels
        self.channelNames = channelNames
        self.task = file.hasAttribute("task") ? try file.stringAttribute("task") : "nucleus-classification"
        self.fields = file.exists("\(PatchesSchema.images)/fields")
            ? try file.dataset("\(PatchesSchema.images)/fields").readStrings().map(Self.decodeFields) : []
        self.labels = labels; self.split = split; self.imageIndex = imageIndex; self.classNames = names
        self.imageNames = imageNames
        self.imagePaths = file.exists("\(PatchesSchema.images)/path") ? try file.dataset("\(PatchesSchema.images)/path").readStrings() : []
        let hasStatistics = file.exists("\(PatchesSchema.images)/mean") && file.exists("\(PatchesSchema.images)/std")
        imageMean = hasStatistics ? try file.read("\(PatchesSchema.images)/mean") : []
        imageStd = hasStatistics ? try file.read("\(PatchesSchema.images)/std") : []
        guard imageMean.count == imageStd.count, imageMean.isEmpty || imageMean.count == imageNames.count else {
            throw bad("/images/mean and /images/std hold \(imageMean.count) and \(imageStd.count) values for \(imageNames.count) images")
        }
        self.path = path
        self.header = header
        self.pixels = .file(file, data)
    }

    /// Why this file cannot feed a network that normalises by image statistics, or nil if it can.
    public var imageStatisticsProblem: String? {
        guard imageMean.isEmpty else { return nil }
        return "holds no per-image statistics (/images/mean, /images/std; written by prepare since patches format 3); prepare the images again"
    }

    /// In-memory patches (row-major [N, S, S], or [N, H, W, C] with `width`/`channels`); for tests and small experiments.
    public init(patches: [UInt16], labels: [Int8], split: [UInt8], patchSize: Int = PatchExtractor.defaultSize,
                width: Int? = nil, channels: Int = 1, imageIndex: [Int32]? = nil, classNames: [String] = PatchesSchema.classNames,
                imageNames: [String] = [], fields: [[String: String]] = []) {
        let n = labels.count
        let w = width ?? patchSize
        precondition(patches.count == n * patchSize * w * channels, "PatchDataset: \(patches.count) pixels for \(n) patches")
        precondition(split.count == n)
        self.count = n; self.height = patchSize; self.width = w; self.channels = channels; self.hasChannelAxis = channels > 1
        self.channelNames = channels == 1 ? ["intensity"] : (0..<channels).map { "channel\($0)" }
        self.task = "nucleus-classification"; self.fields = fields
        self.labels = labels; self.split = split
        self.imageIndex = imageIndex ?? [Int32](repeating: -1, count: n)
        self.classNames = classNames; self.imageNames = imageNames; self.imagePaths = []; self.path = nil; self.header = nil
        self.imageMean = []; self.imageStd = []
        self.pixels = .memory(patches)
    }

    /// Row indices of one split (ascending), or all rows for nil.
    public func rows(in split: PatchSplit?) -> [Int] {
        guard let split else { return Array(0..<count) }
        return self.split.indices.filter { self.split[$0] == split.rawValue }
    }

    /// Patches per class in one split (or all), indexed by label.
    public func classCounts(in split: PatchSplit? = nil) -> [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for i in 0..<count where split == nil || self.split[i] == split!.rawValue { counts[Int(labels[i])] += 1 }
        return counts
    }

    /// Reads patch `row` (H×W×C raw intensities, channels last) into `buffer` without allocating an array.
    public func readPatch(_ row: Int, into buffer: UnsafeMutableBufferPointer<UInt16>) throws {
        precondition(row >= 0 && row < count, "PatchDataset: row \(row) out of 0..<\(count)")
        let area = sampleSize
        precondition(buffer.count >= area)
        switch pixels {
        case .file(_, let data):
            let fourD = hasChannelAxis
            try data.read(into: UnsafeMutableBufferPointer(rebasing: buffer[0..<area]),
                          offset: fourD ? [row, 0, 0, 0] : [row, 0, 0],
                          count: fourD ? [1, height, width, channels] : [1, height, width])
        case .memory(let all):
            all.withUnsafeBufferPointer { src in
                buffer.baseAddress!.update(from: src.baseAddress! + row * area, count: area)
            }
        }
    }

    /// Convenience: one patch as a new array.
    public func patch(_ row: Int) throws -> [UInt16] {
        try [UInt16](unsafeUninitializedCapacity: sampleSize) { buffer, n in
            try readPatch(row, into: buffer); n = sampleSize
        }
    }

    /// The value of field `name` (e.g. "line") of the image `row` came from, or nil.
    public func field(_ name: String, row: Int) -> String? {
        let i = Int(imageIndex[row])
        return i >= 0 && i < fields.count ? fields[i][name] : nil
    }

    /// One `/images/fields` entry (a JSON object) as fields; a malformed one as none.
    public static func decodeFields(_ json: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
    }
}
