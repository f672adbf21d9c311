import Foundation
import Storage

/// What an existing patches.h5 already holds (for appending).
public struct StoredPatches: Codable, Sendable {
    public var splitBy: SplitBy
    public var seed: UInt64
    public var patchSize: Int
    public var labelRadius: Double
    public var mode: PatchMode
    public var valFraction: Double
    public var testFraction: Double
    public var images: [ImageIdentity]
    public var imageSplits: [PatchSplit]
    public var patchCount: Int
    public var created: String
    /// JSON of the settings of the run that created the file.
    public var config: String
    /// JSON list of the settings of every run that wrote to the file ("" before appends were recorded).
    public var runs: String

    /// The split of every leakage group already in the file.
    public func groupSplits() -> [String: PatchSplit] {
        var result: [String: PatchSplit] = [:]
        for (image, split) in zip(images, imageSplits) { result[image.splitKey(splitBy)] = split }
        return result
    }
}

/// One source image's row in `/images/*`.
public struct PatchesImageRow: Sendable {
    public var identity: ImageIdentity
    public var path: String
    public var width: Int
    public var height: Int
    public var objects: Int
    /// The whole image's pixel mean and standard deviation (NaN if unknown).
    public var mean: Float, std: Float
    public init(identity: ImageIdentity, path: String, width: Int, height: Int, objects: Int, mean: Float = .nan, std: Float = .nan) {
        self.identity = identity; self.path = path; self.width = width; self.height = height; self.objects = objects
        self.mean = mean; self.std = std
    }
}

/// The run settings a patches file records as attributes (besides its `FileHeader`).
public struct PatchesSettings: Sendable, Equatable {
    public var splitBy: SplitBy
    public var seed: UInt64
    public var labelRadius: Double
    public var mode: PatchMode
    public var valFraction: Double
    public var testFraction: Double
    public init(splitBy: SplitBy, seed: UInt64, labelRadius: Double, mode: PatchMode, valFraction: Double, testFraction: Double) {
        self.splitBy = splitBy; self.seed = seed; self.labelRadius = labelRadius; self.mode = mode
        self.valFraction = valFraction; self.testFraction = testFraction
    }
}

/// Streams patches into patches.h5, one image at a time (schema: docs/file-formats.md "patches.h5").
/// `PatchDataset` is the reader of the same file.
public final class PatchesWriter {
    public let path: String
    /// Sample geometry (square single-channel patches from prepare; H × W × C tiles from `tiles`).
    public let height: Int, width: Int, channels: Int
    public var patchSize: Int { height }
    private var sampleSize: Int { height * width * channels }
    private(set) var file: HDF5File?
    private let patches, labels, split, imageIndex, center: HDF5Dataset
    private let imageColumns: [String: HDF5Dataset]
    private let imageSplit, imageWidth, imageHeight, imageObjects, imagePatches: HDF5Dataset
    /// Absent in files written before format version 3 (appending to one keeps it without them).
    private let imageMean, imageStd: HDF5Dataset?
    /// `/images/fields` (format 4; tiles files): each image's named fields as JSON.
    private let imageFields: HDF5Dataset?
    public private(set) var imageCount: Int
    public private(set) var patchCount: Int
    /// Class names in label order (the `classes` attribute): the nucleus classes unless a run labels
    /// by something else (e.g. `prepare --label-by platemap:agonist`).
    public let classNames: [String]

    static let stringColumns = PatchesSchema.imageFields + ["path"]

    private init(file: HDF5File, path: String, height: Int, width: Int, channels: Int, classNames: [String]) throws {
        self.file = file; self.path = path; self.classNames = classNames
        self.height = height; self.width = width; self.channels = channels
        patches = try file.dataset(PatchesSchema.patches)
        labels = try file.dataset(PatchesSchema.labels)
        split = try file.dataset(PatchesSchema.split)
        imageIndex = try file.dataset(PatchesSchema.imageIndex)
        center = try file.dataset(PatchesSchema.center)
        let images = try file.group(PatchesSchema.images)
        var columns: [String: HDF5Dataset] = [:]
        for name in Self.stringColumns { columns[name] = try images.dataset(name) }
        imageColumns = columns
        imageSplit = try images.dataset("split")
        imageWidth = try images.dataset("width")
        imageHeight = try images.dataset("height")
        imageObjects = try images.dataset("objects")
        imagePatches = try images.dataset("patches")
        let hasStatistics = images.exists("mean") && images.exists("std")
        imageMean = hasStatistics ? try images.dataset("mean") : nil
        imageStd = hasStatistics ? try images.dataset("std") : nil
        imageFields = images.exists("fields") ? try images.dataset("fields") : nil
        imageCount = try imageSplit.count()
        patchCount = try patches.shape()[0]
    }

    /// Creates a new file with empty, appendable datasets.
    public static func create(path: String, patchSize: Int, classNames: [String] = PatchesSchema.classNames) throws -> PatchesWriter {
        try create(path: path, height: patchSize, width: patchSize, channelNames: nil, classNames: classNames)
    }

    /// Creates a new file; with `channelNames`, `/patches` is [N, H, W, C] (format 4, any H × W) and
    /// `/images/fields` holds each image's named fields.
    public static func create(path: String, height: Int, width: Int, channelNames: [String]?,
                              classNames: [String]) throws -> PatchesWriter {
        let file = try HDF5File.create(path)
        let (h, w) = (height, width)
        if let channelNames {
            let c = channelNames.count
            try file.createDataset(PatchesSchema.patches, of: UInt16.self, shape: [0, h, w, c],
                                   options: DatasetOptions(chunk: [1, h, w, c], maxShape: [nil, h, w, c], deflate: 4, shuffle: true))
            try file.setAttribute("channels", String(decoding: try JSONEncoder().encode(channelNames), as: UTF8.self))
        } else {
            precondition(h == w, "PatchesWriter: single-channel patches are square")
            try file.createDataset(PatchesSchema.patches, of: UInt16.self, shape: [0, h, h],
                                   options: DatasetOptions(chunk: [1, h, h], maxShape: [nil, h, h], deflate: 4, shuffle: true))
        }
        try file.createDataset(PatchesSchema.labels, of: Int8.self, shape: [0], options: .appendable(chunkRows: 4096))
        try file.createDataset(PatchesSchema.split, of: UInt8.self, shape: [0], options: .appendable(chunkRows: 4096))
        try file.createDataset(PatchesSchema.imageIndex, of: Int32.self, shape: [0], options: .appendable(chunkRows: 4096))
        try file.createDataset(PatchesSchema.center, of: Float.self, shape: [0, 2],
                               options: .appendable(rowShape: [2], chunkRows: 2048))
        let images = try file.createGroup(PatchesSchema.images)
        for name in stringColumns {
            try images.createStringDataset(name, shape: [0], options: .appendable(chunkRows: 256, deflate: nil))
        }
        try images.createDataset("split", of: UInt8.self, shape: [0], options: .appendable(chunkRows: 256))
        for name in ["width", "height", "objects", "patches"] {
            try images.createDataset(name, of: Int32.self, shape: [0], options: .appendable(chunkRows: 256))
        }
        for name in ["mean", "std"] {
            try images.createDataset(name, of: Float.self, shape: [0], options: .appendable(chunkRows: 256))
        }
        if channelNames != nil {
            try images.createStringDataset("fields", shape: [0], options: .appendable(chunkRows: 256, deflate: nil))
        }
        return try PatchesWriter(file: file, path: path, height: h, width: w, channels: channelNames?.count ?? 1, classNames: classNames)
    }

    /// Reads what an existing file holds, checking it is a patches file this version can extend.
    public static func inspect(path: String) throws -> StoredPatches {
        // Every readable version can be extended: the versions differ only by additions, and the
        // append rewrites the header at the current version.
        let (file, header) = try FileHeader.open(path, expecting: PatchesSchema.format)
        func bad(_ problem: String) -> FileFormatError { FileFormatError(path: path, problem: problem) }
        if file.hasAttribute("task"), try file.stringAttribute("task") != "nucleus-classification" {
            throw bad("holds \(try file.stringAttribute("task")) tiles (written by `netosis tiles`), not nucleus patches; cannot append")
        }
        for name in ["split_by", "seed", "patch_size", "label_radius", "mode"] where !file.hasAttribute(name) {
            throw bad("attribute '\(name)' is missing; the file was not written by `netosis prepare`, cannot append")
        }
        guard let splitBy = SplitBy(rawValue: try file.stringAttribute("split_by")),
              let mode = PatchMode(rawValue: try file.stringAttribute("mode")) else {
            throw bad("attributes split_by/mode hold unknown values")
        }
        let images = try file.group(PatchesSchema.images)
        let columns = try PatchesSchema.imageFields.map { try images.dataset($0).readStrings() }
        let m = columns[0].count
        guard columns.allSatisfy({ $0.count == m }) else { throw bad("/images columns have different lengths") }
        let identities = (0..<m).map {
            ImageIdentity(name: columns[0][$0], plate: columns[1][$0], well: columns[2][$0], field: columns[3][$0],
                          group: columns[4][$0])
        }
        let splits: [UInt8] = try images.read("split")
        guard splits.count == m, splits.allSatisfy({ $0 <= 2 }) else { throw bad("/images/split is inconsistent") }
        // Rows must add up (an interrupted append can leave them uneven): refuse rather than extend it.
        let n = try file.dataset(PatchesSchema.patches).shape()[0]
        let perImage: [Int32] = try images.read("patches")
        let lengths = try [PatchesSchema.labels, PatchesSchema.split, PatchesSchema.imageIndex, PatchesSchema.center]
            .map { try file.dataset($0).shape()[0] }
        guard lengths.allSatisfy({ $0 == n }), perImage.count == identities.count,
              perImage.reduce(0, { $0 + Int($1) }) == n else {
            throw bad("is inconsistent (/patches has \(n) rows, /labels,/split,/image_index,/center \(lengths), /images lists \(perImage.reduce(0, { $0 + Int($1) })) patches in \(perImage.count) rows) — probably an interrupted run; prepare a new file")
        }
        let seedBits: Int64 = try file.attribute("seed")
        let patchSize: Int32 = try file.attribute("patch_size")
        return StoredPatches(
            splitBy: splitBy, seed: UInt64(bitPattern: seedBits), patchSize: Int(patchSize),
            labelRadius: try file.attribute("label_radius"), mode: mode,
            valFraction: file.hasAttribute("val_fraction") ? try file.attribute("val_fraction") : 0,
            testFraction: file.hasAttribute("test_fraction") ? try file.attribute("test_fraction") : 0,
            images: identities, imageSplits: splits.map { PatchSplit(rawValue: $0)! },
            patchCount: n, created: header.created, config: header.config,
            runs: file.hasAttribute("runs") ? try file.stringAttribute("runs") : "")
    }

    public static func openForAppend(path: String, patchSize: Int) throws -> PatchesWriter {
        let file = try HDF5File.open(path, mode: .readWrite)
        return try PatchesWriter(file: file, path: path, height: patchSize, width: patchSize, channels: 1,
                                 classNames: try PatchesSchema.classNames(of: file))
    }

    /// Appends one image's row and its patches ([n, H, W(, C)] pixels, n labels, [n, 2] centres);
    /// `fields` go to `/images/fields` in files that have it.
    public func append(_ image: PatchesImageRow, patches pixels: [UInt16], labels patchLabels: [Int8], centers: [Float],
                       split assigned: PatchSplit, fields: [String: String] = [:]) throws {
        let n = patchLabels.count
        precondition(pixels.count == n * sampleSize && centers.count == 2 * n)
        let row = Int32(imageCount)
        if n > 0 {
            try patches.append(pixels)
            try labels.append(patchLabels)
            try split.append([UInt8](repeating: assigned.rawValue, count: n))
            try imageIndex.append([Int32](repeating: row, count: n))
            try center.append(centers)
        }
        let id = image.identity
        let values = ["name": id.name, "plate": id.plate, "well": id.well, "field": id.field, "group": id.group,
                      "path": image.path]
        for (name, column) in imageColumns { try column.appendStrings([values[name]!]) }
        try imageSplit.append([assigned.rawValue])
        try imageWidth.append([Int32(image.width)])
        try imageHeight.append([Int32(image.height)])
        try imageObjects.append([Int32(image.objects)])
        try imagePatches.append([Int32(n)])
        try imageMean?.append([image.mean])
        try imageStd?.append([image.std])
        if let imageFields {
            let encoder = JSONEncoder(); encoder.outputFormatting = .sortedKeys
            try imageFields.appendStrings([String(decoding: try encoder.encode(fields), as: UTF8.self)])
        }
        imageCount += 1
        patchCount += n
    }

    /// Writes the file attributes: the header (its `config` is the creating run's settings), the
    /// patch geometry and the split rule, and `runs`, the settings of every run that wrote to it.
    public func writeAttributes(header: FileHeader, settings: PatchesSettings, runs: String) throws {
        guard let file else { return }
        try header.write(to: file)
        try file.setAttribute("modified", FileHeader.now())
        try file.setAttribute("runs", runs)
        let classes = String(decoding: try JSONEncoder().encode(classNames), as: UTF8.self)
        try file.setAttribute("classes", classes)
        try file.setAttribute("patch_size", Int32(patchSize))
        try file.setAttribute("label_radius", settings.labelRadius)
        try file.setAttribute("split_by", settings.splitBy.rawValue)
        try file.setAttribute("seed", Int64(bitPattern: settings.seed))
        try file.setAttribute("mode", settings.mode.rawValue)
        try file.setAttribute("val_fraction", settings.valFraction)
        try file.setAttribute("test_fraction", settings.testFraction)
    }

    /// Sets a string attribute (a tiles file's `task`, `grid`, `label_field`, …).
    public func setAttribute(_ name: String, _ value: String) throws { try file?.setAttribute(name, value) }

    public func flush() throws { try file?.flush() }

    /// Flushes and closes the file, checked (call last, before the file is renamed into place).
    public func close() throws {
        try file?.close()
        file = nil
    }

    /// Class counts per split and images per split, over the whole file.
    public func summary() throws -> [PatchSplit: SplitCounts] {
        let l: [Int8] = try labels.read()
        let s: [UInt8] = try split.read()
        let imageSplits: [UInt8] = try imageSplit.read()
        var result: [PatchSplit: SplitCounts] = [:]
        for part in PatchSplit.allCases { result[part] = SplitCounts(classes: classNames.count) }
        for (label, part) in zip(l, s) { result[PatchSplit(rawValue: part)!]!.classes[Int(label)] += 1 }
        for part in imageSplits { result[PatchSplit(rawValue: part)!]!.images += 1 }
        return result
    }
}

/// Patches and images in one split.
public struct SplitCounts: Codable, Equatable, Sendable {
    public var images = 0
    /// Indexed by class (0 other, 1 non-NETotic, 2 NETotic, unless the file names other classes).
    public var classes = [0, 0, 0]
    public var patches: Int { classes.reduce(0, +) }
    public init(classes: Int = 3) { self.classes = [Int](repeating: 0, count: classes) }
}
