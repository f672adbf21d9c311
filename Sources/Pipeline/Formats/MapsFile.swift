import Foundation
import Neural
import Storage

/// Stage-1 probability maps of whole images with their per-image counts (`netosis maps --out`,
/// `netosis.maps`): what the PL counter's stage 2 trains on (`train --task count`).
///
///     /maps            float32 [N, H, W, C]  stage-1 class probabilities, channels last (C = stage-1 classes)
///     /counts          float32 [N, K]        the counts stage 2 learns (K = count_names)
///     /split           uint8   [N]           0 train, 1 val, 2 test (the image's split in the patches file)
///     /images/name, /images/path  string [N]
///     attributes: window (stage-1 input size), border (valid | reflect), map_classes, count_names (JSON lists)
public enum MapsFile {
    public static let format = FileFormat(name: "netosis.maps", version: 1, oldestReadable: 1, madeBy: "netosis maps")
    /// What stage 2 counts: the two phenotypes of the paper's PL counter.
    public static let countNames = ["non-NETotic", "NETotic"]

    /// Everything about one image except its map.
    public struct Row: Sendable {
        public var name: String, path: String
        public var split: UInt8
        public var counts: [Float]
        public init(name: String, path: String, split: UInt8, counts: [Float]) {
            self.name = name; self.path = path; self.split = split; self.counts = counts
        }
    }

    /// Writes rows and their maps ([h, w, c] each) in one go, through `OutputFile`'s temporary file.
    public static func write(to path: String, config: String, window: Int, border: String, mapClasses: [String], rows: [Row],
                             height: Int, width: Int, channels: Int, map: (Int) throws -> [Float]) throws {
        let file = try HDF5File.create(path)
        try FileHeader(format, config: config).write(to: file)
        func json(_ list: [String]) throws -> String { String(decoding: try JSONEncoder().encode(list), as: UTF8.self) }
        try file.setAttribute("window", Int32(window))
        try file.setAttribute("border", border)
        try file.setAttribute("map_classes", try json(mapClasses))
        try file.setAttribute("count_names", try json(countNames))
        let n = rows.count
        let maps = try file.createDataset("maps", of: Float.self, shape: [n, height, width, channels],
                                          options: DatasetOptions(chunk: [1, height, width, channels], deflate: 1, shuffle: true, checksum: true))
        for i in 0..<n {
            let values = try map(i)
            precondition(values.count == height * width * channels)
            try maps.write(values, offset: [i, 0, 0, 0], count: [1, height, width, channels])
        }
        try file.write("counts", rows.flatMap(\.counts), shape: [n, countNames.count])
        try file.write("split", rows.map(\.split), shape: [n])
        let images = try file.createGroup("images")
        try images.writeStrings("name", rows.map(\.name))
        try images.writeStrings("path", rows.map(\.path))
        try file.close()
    }
}

/// A maps file opened for training or evaluation: rows in memory, maps read one at a time.
public final class MapsDataset {
    public let path: String
    public let count: Int, height: Int, width: Int, channels: Int
    public let counts: [Float]
    public let countNames: [String]
    public let split: [UInt8]
    public let names: [String]
    private let file: HDF5File
    private let maps: HDF5Dataset

    public init(path: String) throws {
        let (file, _) = try FileHeader.open(path, expecting: MapsFile.format)
        func bad(_ problem: String) -> FileFormatError { FileFormatError(path: path, problem: problem) }
        for name in ["maps", "counts", "split", "images/name"] where !file.exists(name) { throw bad("missing dataset /\(name)") }
        maps = try file.dataset("maps")
        let shape = try maps.shape()
        guard shape.count == 4, shape.dropFirst().allSatisfy({ $0 > 0 }) else { throw bad("/maps has shape \(shape), expected [N, H, W, C]") }
        (count, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        countNames = (try? JSONDecoder().decode([String].self, from: Data(try file.stringAttribute("count_names").utf8))) ?? MapsFile.countNames
        counts = try file.read("counts")
        split = try file.read("split")
        names = try file.dataset("images/name").readStrings()
        guard counts.count == count * countNames.count, split.count == count, names.count == count else {
            throw bad("/counts, /split and /images/name disagree with /maps on the number of images (\(count))")
        }
        if let i = split.firstIndex(where: { $0 > 2 }) { throw bad("/split[\(i)] = \(split[i]); expected 0, 1 or 2") }
        if let i = counts.firstIndex(where: { !$0.isFinite || $0 < 0 }) { throw bad("/counts[\(i / countNames.count)] holds \(counts[i]); counts are finite and ≥ 0") }
        self.path = path
        self.file = file
    }

    public func rows(in split: UInt8?) -> [Int] {
        guard let split else { return Array(0..<count) }
        return self.split.indices.filter { self.split[$0] == split }
    }

    public var sampleSize: Int { height * width * channels }

    /// Why `model` cannot be trained or evaluated on these maps (geometry or number of counts), or nil.
    public func mismatch(with model: ModelConfig) -> String? {
        guard countNames.count != model.numClasses || height != model.inputSize || width != model.inputWidth
                || channels != model.inputChannels else { return nil }
        return "\(path): maps are \(height)×\(width)×\(channels) with \(countNames.count) counts (\(countNames.joined(separator: ", "))) "
            + "but model '\(model.name)' takes \(model.inputSize)×\(model.inputWidth)×\(model.inputChannels) (input_size, input_width, "
            + "input_channels) and has \(model.numClasses) outputs"
    }

    /// The map of `row` ([H, W, C]) into `buffer`.
    public func readMap(_ row: Int, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        try maps.read(into: UnsafeMutableBufferPointer(rebasing: buffer[0..<sampleSize]), offset: [row, 0, 0, 0],
                      count: [1, height, width, channels])
    }
}
