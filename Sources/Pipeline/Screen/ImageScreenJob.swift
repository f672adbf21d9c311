import Cluster
import Foundation
import Imaging
import Neural
import Storage

/// `netosis screen --tiles N`: whole colour photographs called by an image classifier (the celldeath
/// method's `celldeath predict`): each image is cut into the grid `tiles` gives, every tile is
/// classified, and the image is called by the mean of its tiles' probabilities (and by their vote).
/// Results go to the image-classification flavour of results.h5 (docs/file-formats.md), labels
/// unknown. A bad image is recorded as failed with one line and the rest go on. Images are shared
/// over ranks (image k on rank k mod N); rank 0 writes OUT atomically at the end.
public enum ImageScreenJob {
    public struct Options: Sendable {
        public var checkpoint: String
        public var input: String
        public var output: String
        public var tiles: Int
        /// Class names in the checkpoint's label order (a checkpoint stores only their count).
        public var classes: [String]?
        public var overwrite: Bool
        public init(checkpoint: String, input: String, output: String, tiles: Int, classes: [String]? = nil, overwrite: Bool = false) {
            self.checkpoint = checkpoint; self.input = input; self.output = output; self.tiles = tiles
            self.classes = classes; self.overwrite = overwrite
        }
    }

    public struct Summary: Equatable, Sendable {
        public var images = 0, failed = 0
        /// Images called per class (by mean tile probability).
        public var perClass: [Int] = []
    }

    @discardableResult
    public static func run(_ options: Options, world: Communicator? = nil, log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
        throws -> Summary {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        guard TileLayout.counts.contains(options.tiles) else {
            throw TilesError("--tiles \(options.tiles): expected 1, 2, 4, 6 or 8 (grids 1×1, 1×2, 2×2, 2×3, 2×4)")
        }
        let stored = try WeightIO.config(atPath: options.checkpoint)
        guard stored.inputChannels == 3 else {
            throw FileFormatError(path: options.checkpoint, problem: "model '\(stored.name)' takes \(stored.inputChannels)-channel input; "
                                  + "screen --tiles calls colour photographs with an image classifier trained on `netosis tiles`")
        }
        let k = stored.numClasses
        let classes = options.classes ?? (0..<k).map { "class\($0)" }
        guard classes.count == k else {
            throw TilesError("--classes names \(classes.count) classes; model '\(stored.name)' has \(k)")
        }
        var paths: [String]? = nil
        var output: OutputFile? = nil
        if rank == 0 {
            output = try OutputFile.check(options.output, kind: "results file (\(ResultsFile.format.name))", inputs: [options.checkpoint],
                                          overwrite: options.overwrite) { ImageClassificationReport.isImageClassification($0) }
            paths = try InputFiles.list(options.input, extensions: ["png", "jpg", "jpeg", "tif", "tiff"], what: "images (.png, .jpg, .tif)",
                                        fileAllowed: true)
        }
        if let world { paths = try world.broadcast(paths) }
        let all = paths ?? []

        // One network per tile size (a ResNet runs at any size; other networks only at their own).
        var models: [String: any Model] = [:]
        func model(height: Int, width: Int) throws -> any Model {
            let key = "\(height)x\(width)"
            if let m = models[key] { return m }
            var config = stored
            if (height, width) != (stored.inputSize, stored.inputWidth) {
                guard stored.acceptsAnyInputSize else {
                    throw ImageError(path: options.checkpoint, problem: "model '\(stored.name)' takes \(stored.inputSize)×\(stored.inputWidth) input, the tiles are \(height)×\(width)")
                }
                config = stored.with(inputSize: height, width: width)
            }
            let m = try config.makeModel()
            try WeightIO.loadWeights(into: m, path: options.checkpoint)
            models[key] = m
            return m
        }

        var mine: [(Int, ImageCall, [TileCall])] = []
        for index in stride(from: rank, to: all.count, by: size) {
            let path = all[index]
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            var call = ImageCall(name: name, path: TilesJob.absolute(path), probability: [Float](repeating: .nan, count: k))
            do {
                let image = try RGBImage.read(path)
                guard let layout = TileLayout(count: options.tiles, width: image.width, height: image.height) else { throw TilesError("unreachable") }
                let (h, w) = layout.tileSize(width: image.width, height: image.height)
                guard h >= 8, w >= 8 else { throw ImageError(path: path, problem: "is \(image.width)×\(image.height); its tiles would be \(h)×\(w)") }
                let net = try model(height: h, width: w)
                var input = layout.cut(image).pixels.map(Float.init)
                let sample = h * w * 3
                input.withUnsafeMutableBufferPointer { buffer in
                    for t in 0..<layout.count {
                        let one = UnsafeMutableBufferPointer(rebasing: buffer[t * sample ..< (t + 1) * sample])
                        switch stored.inputNormalization {
                        case .imagenet: PatchTransform.imagenet(one)
                        case .patch, .image: PatchTransform.zScore(one)
                        }
                    }
                }
                let logits = input.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: net.forward($0.baseAddress!, batch: layout.count, height: h, width: w, training: false), count: layout.count * k)) }
                var probabilities = TileProbabilities(classes: k)
                logits.withUnsafeBufferPointer { probabilities.add(rows: ArraySlice(0..<layout.count), logits: $0.baseAddress!) }
                let perTile = (0..<layout.count).map { Array(probabilities.probability(at: $0)) }
                let tiles = perTile.indices.map { TileCall(image: -1, predicted: Int8(probabilities.predicted(at: $0)), probability: perTile[$0]) }
                let (mean, meanClass, vote) = ImageVerdicts.call(perTile)
                call.probability = mean; call.predicted = Int8(meanClass); call.vote = Int8(vote)
                call.tiles = layout.count
                mine.append((index, call, tiles))
            } catch {
                call.status = "failed"; call.error = InputFiles.describe(error, path: path)
                warn(call.error)
                mine.append((index, call, []))
            }
        }
        struct Done: Codable { var index: Int; var call: ImageCall; var tiles: [TileCall] }
        var done = mine.map { Done(index: $0.0, call: $0.1, tiles: $0.2) }
        if let world, size > 1 { done = try world.allGather(done).flatMap { $0 } }
        guard rank == 0, let output else { return Summary() }
        done.sort { $0.index < $1.index }
        var tiles: [TileCall] = []
        for (row, d) in done.enumerated() { for var t in d.tiles { t.image = Int32(row); tiles.append(t) } }
        let calls = done.map(\.call)
        try output.write {
            try ImageResultsFile.write(images: calls, tiles: tiles, classes: classes, checkpoint: options.checkpoint,
                                       config: ["checkpoint": options.checkpoint, "input": options.input, "tiles": "\(options.tiles)"], to: $0)
        }
        var summary = Summary(images: calls.count, failed: calls.filter { $0.status != "ok" }.count, perClass: [Int](repeating: 0, count: k))
        for c in calls where c.predicted >= 0 { summary.perClass[Int(c.predicted)] += 1 }
        log("screen: \(calls.count) image(s), \(tiles.count) tiles (\(options.tiles) per image) → \(options.output); called "
            + zip(classes, summary.perClass).map { "\($1) \($0)" }.joined(separator: ", ")
            + (summary.failed > 0 ? "; \(summary.failed) failed (above)" : ""))
        return summary
    }
}
