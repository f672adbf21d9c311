import Foundation
import Storage

/// A labelled patch set, from patches.h5 or from memory. Labels, splits and image indices are
/// held in memory (a few bytes per patch); pixels are read on demand, one patch at a time, by
/// hyperslab into caller-owned memory.
public final class PatchDataset {
    public let count: Int
    public let patchSize: Int
    public let labels: [Int8]
    public let split: [UInt8]
    public let imageIndex: [Int32]
    public let classNames: [String]
    /// Source image names (`/images/name`), indexed by `imageIndex`; empty for in-memory data.
    public let imageNames: [String]
    /// Each source image's pixel mean and standard deviation (`/images/mean`, `/images/std`, format
    /// version 3); empty for older files and in-memory data.
    public let imageMean: [Float], imageStd: [Float]
    /// The file it came from (nil for in-memory data).
    public let path: String?
    /// The file's provenance (nil for in-memory data).
    public let header: FileHeader?

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
        guard shape.count == 3, shape[1] == shape[2], shape[1] > 0 else {
            throw bad("/patches has shape \(shape), expected [N, S, S]")
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
        self.count = shape[0]; self.patchSize = shape[1]
        self.labels = labels; self.split = split; self.imageIndex = imageIndex; self.classNames = names
        self.imageNames = imageNames
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

    /// In-memory patches (row-major [N, S, S]); for tests and small experiments.
    public init(patches: [UInt16], labels: [Int8], split: [UInt8], patchSize: Int = PatchExtractor.defaultSize,
                imageIndex: [Int32]? = nil, classNames: [String] = PatchesSchema.classNames) {
        let n = labels.count
        precondition(patches.count == n * patchSize * patchSize, "PatchDataset: \(patches.count) pixels for \(n) patches")
        precondition(split.count == n)
        self.count = n; self.patchSize = patchSize; self.labels = labels; self.split = split
        self.imageIndex = imageIndex ?? [Int32](repeating: -1, count: n)
        self.classNames = classNames; self.imageNames = []; self.path = nil; self.header = nil
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

    /// Reads patch `row` (S×S raw intensities) into `buffer` without allocating an array.
    public func readPatch(_ row: Int, into buffer: UnsafeMutableBufferPointer<UInt16>) throws {
        precondition(row >= 0 && row < count, "PatchDataset: row \(row) out of 0..<\(count)")
        let area = patchSize * patchSize
        precondition(buffer.count >= area)
        switch pixels {
        case .file(_, let data):
            try data.read(into: UnsafeMutableBufferPointer(rebasing: buffer[0..<area]),
                          offset: [row, 0, 0], count: [1, patchSize, patchSize])
        case .memory(let all):
            all.withUnsafeBufferPointer { src in
                buffer.baseAddress!.update(from: src.baseAddress! + row * area, count: area)
            }
        }
    }

    /// Convenience: one patch as a new array.
    public func patch(_ row: Int) throws -> [UInt16] {
        try [UInt16](unsafeUninitializedCapacity: patchSize * patchSize) { buffer, n in
            try readPatch(row, into: buffer); n = patchSize * patchSize
        }
    }
}
