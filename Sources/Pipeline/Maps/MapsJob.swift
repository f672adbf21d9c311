import Cluster
import Foundation
import Imaging
import Neural
import Storage

public struct MapsOptions: Sendable {
    public var stage1: String
    public var patches: String
    public var output: String
    public var border: MapBorder
    public var overwrite: Bool
    public init(stage1: String, patches: String, output: String, border: MapBorder = .valid, overwrite: Bool = false) {
        self.stage1 = stage1; self.patches = patches; self.output = output; self.border = border; self.overwrite = overwrite
    }
}

/// `netosis maps`: the PL counter's training data for stage 2. For every image of a patches file
/// (`prepare --mode point` over annotated images) it runs the stage-1 window network over the whole
/// image (one sliding-window pass) and pairs the probability maps with the image's counts — its
/// patches labelled non-NETotic and NETotic, i.e. its markers of those types in point mode — and
/// its split. Images are shared out over ranks (rank r takes every N-th); rank 0 gathers the maps
/// and writes the file. An unreadable image is reported and left out; the rest are written.
public enum MapsJob {
    @discardableResult
    public static func run(_ options: MapsOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> Int {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let output = rank == 0
            ? try OutputFile.check(options.output, kind: "maps file (\(MapsFile.format.name))", inputs: [options.stage1, options.patches],
                                   overwrite: options.overwrite) { (try? FileHeader.open($0, expecting: MapsFile.format)) != nil }
            : nil
        let stage1 = try StageOneMaps(checkpoint: options.stage1, border: options.border)
        let images = try PatchImages(path: options.patches)
        guard !images.names.isEmpty else { throw FileFormatError(path: options.patches, problem: "lists no images") }
        if let problem = images.sizeProblem { throw FileFormatError(path: options.patches, problem: problem) }
        let (mapH, mapW) = stage1.mapSize(height: images.heights[0], width: images.widths[0])
        guard mapH > 0, mapW > 0 else {
            throw FileFormatError(path: options.patches, problem: "images are \(images.widths[0])×\(images.heights[0]) pixels, smaller than stage 1's \(stage1.window)-pixel window")
        }
        let c = stage1.classes, n = images.names.count
        let started = Date()

        // Each rank computes its images; an empty message marks a failure (its reason follows as bytes).
        func compute(_ i: Int) -> Result<[Float], Error> {
            Result {
                let image = try TIFFReader.read(images.paths[i])
                guard image.width == images.widths[i], image.height == images.heights[i] else {
                    throw ImageError(path: images.paths[i], problem: "is \(image.width)×\(image.height) now; the patches file recorded \(images.widths[i])×\(images.heights[i])")
                }
                return try stage1.maps(of: image, path: images.paths[i]).values
            }
        }
        var results: [Result<[Float], Error>?] = Array(repeating: nil, count: n)
        for i in stride(from: rank, to: n, by: size) {
            let result = compute(i)
            if rank == 0 { results[i] = result; progress(results.compactMap { $0 }.count, n); continue }
            switch result {
            case let .success(values): try world!.send(values, to: 0, tag: i)
            case let .failure(error):
                try world!.send([Float](), to: 0, tag: i)
                try world!.send(Array(InputFiles.describe(error, path: images.paths[i]).utf8), to: 0, tag: i)
            }
        }
        guard rank == 0, let output else { return 0 }
        for i in 0..<n where i % size != 0 {
            let message = try world!.receive(Float.self, from: i % size, tag: i)
            if message.payload.isEmpty {
                let reason = try world!.receive(UInt8.self, from: i % size, tag: i)
                results[i] = .failure(MapsError(String(decoding: reason.payload, as: UTF8.self)))
            } else {
                results[i] = .success(message.payload)
            }
            progress(results.compactMap { $0 }.count, n)
        }
        var rows: [MapsFile.Row] = [], maps: [[Float]] = []
        for i in 0..<n {
            switch results[i]! {
            case let .success(values):
                rows.append(MapsFile.Row(name: images.names[i], path: images.paths[i], split: images.splits[i], counts: images.counts[i]))
                maps.append(values)
            case let .failure(error):
                warn("\(error is MapsError ? "\(error)" : InputFiles.describe(error, path: images.paths[i])); left out of \(options.output)")
            }
        }
        guard !rows.isEmpty else { throw MapsError("\(options.patches): no image could be read; nothing written") }
        let config = ["stage1": options.stage1, "patches": options.patches, "border": options.border.rawValue]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
        try output.write { temporary in
            try MapsFile.write(to: temporary, config: json, window: stage1.window, border: options.border.rawValue,
                               mapClasses: (0..<c).map { images.classNames.indices.contains($0) ? images.classNames[$0] : "class \($0)" },
                               rows: rows, height: mapH, width: mapW, channels: c) { maps[$0] }
        }
        let perSplit = (0...2).map { s in rows.filter { $0.split == s }.count }
        log(String(format: "maps: %d image(s) → %@ (%d×%d×%d maps; train %d, val %d, test %d; %d left out) in %.1f s",
                   rows.count, options.output, mapH, mapW, c, perSplit[0], perSplit[1], perSplit[2], n - rows.count,
                   Date().timeIntervalSince(started)))
        return rows.count
    }
}

/// The image table of a patches file, with each image's counts of non-NETotic and NETotic patches.
struct PatchImages {
    var names: [String], paths: [String], splits: [UInt8], widths: [Int], heights: [Int], counts: [[Float]]
    var classNames: [String]

    init(path: String) throws {
        let dataset = try PatchDataset(path: path)
        let file = try HDF5File.open(path)
        let g = try file.group(PatchesSchema.images)
        names = dataset.imageNames
        paths = try g.dataset("path").readStrings()
        splits = try g.read("split")
        widths = (try g.read("width", as: Int32.self)).map(Int.init)
        heights = (try g.read("height", as: Int32.self)).map(Int.init)
        let m = names.count
        guard [paths.count, splits.count, widths.count, heights.count].allSatisfy({ $0 == m }) else {
            throw FileFormatError(path: path, problem: "/images columns have different lengths")
        }
        classNames = dataset.classNames
        // Count columns by name, so a file whose class list is ordered differently still counts right.
        let targets = MapsFile.countNames.map { name in dataset.classNames.firstIndex(of: name) }
        guard targets.allSatisfy({ $0 != nil }) else {
            throw FileFormatError(path: path, problem: "classes \(dataset.classNames) do not include \(MapsFile.countNames.joined(separator: " and "))")
        }
        var tally = [[Float]](repeating: [Float](repeating: 0, count: targets.count), count: names.count)
        for (label, image) in zip(dataset.labels, dataset.imageIndex) where image >= 0 {
            if let k = targets.firstIndex(of: Int(label)) { tally[Int(image)][k] += 1 }
        }
        counts = tally
    }

    /// Stage 2 reads whole maps: every image must have the same size.
    var sizeProblem: String? {
        guard let i = names.indices.first(where: { widths[$0] != widths[0] || heights[$0] != heights[0] }) else { return nil }
        return "images differ in size (\(names[0]) is \(widths[0])×\(heights[0]), \(names[i]) \(widths[i])×\(heights[i])); the PL counter's stage 2 needs one field size"
    }
}

struct MapsError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
