import Cluster
import Foundation
import Imaging
import Neural
import Storage

/// Settings of one `netosis saliency` run.
public struct SaliencyOptions: Sendable {
    public var checkpoint: String
    public var patches: String
    /// Patch rows to explain (nil: every row of `split`, up to `limit`).
    public var rows: [Int]?
    public var split: PatchSplit?
    public var limit: Int
    public var method: SaliencyMethod
    /// The class each map explains (nil: the model's prediction for the patch).
    public var targetClass: Int?
    /// Grad-CAM's layer (nil: the last convolution's activation).
    public var layer: Int?
    public var output: String
    public var pngFolder: String?
    public var overwrite: Bool

    public init(checkpoint: String, patches: String, rows: [Int]? = nil, split: PatchSplit? = .test, limit: Int = 64,
                method: SaliencyMethod, targetClass: Int? = nil, layer: Int? = nil, output: String,
                pngFolder: String? = nil, overwrite: Bool = false) {
        self.checkpoint = checkpoint; self.patches = patches; self.rows = rows; self.split = split; self.limit = limit
        self.method = method; self.targetClass = targetClass; self.layer = layer; self.output = output
        self.pngFolder = pngFolder; self.overwrite = overwrite
    }
}

/// `netosis saliency`: saliency maps of a checkpoint's class scores for chosen patches, into an HDF5
/// file (`netosis.saliency`: /rows, /labels, /predicted, /class, /patches — the z-scored input — and
/// /maps [n, S, S], channels summed) and, with --png, one image per patch: the patch, the map and the
/// map over the patch, side by side. Patches are z-scored as in training. Rank 0 does the work.
public enum SaliencyJob {
    public static let format = FileFormat(name: "netosis.saliency", version: 1, oldestReadable: 1, madeBy: "netosis saliency")

    @discardableResult
    public static func run(_ options: SaliencyOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> Int {
        guard (world?.rank ?? 0) == 0 else { return 0 }
        let output = try OutputFile.check(options.output, kind: "saliency file (\(format.name))", inputs: [options.checkpoint, options.patches],
                                          overwrite: options.overwrite) { (try? FileHeader.open($0, expecting: format)) != nil }
        let model = try WeightIO.loadModel(path: options.checkpoint)
        let saliency: Saliency
        do { saliency = try Saliency(model, layer: options.layer) } catch {
            throw FileFormatError(path: options.checkpoint, problem: "\(error)")
        }
        let dataset = try PatchDataset(path: options.patches)
        let (h, w, c, k) = (dataset.height, dataset.width, dataset.channels, model.numClasses)
        guard h == model.inputSize, w == model.inputWidth, c == model.inputChannels else {
            throw FileFormatError(path: options.patches, problem: "samples are \(h)×\(w)×\(c) but model '\(model.name)' expects "
                                  + "\(model.inputSize)×\(model.inputWidth)×\(model.inputChannels)")
        }
        if let c = options.targetClass, !(0..<k).contains(c) {
            throw FileFormatError(path: options.checkpoint, problem: "model '\(model.name)' has \(k) classes; --class \(c) is not one of 0…\(k - 1)")
        }
        let rows = options.rows ?? Array(dataset.rows(in: options.split).prefix(options.limit))
        if let bad = rows.first(where: { !(0..<dataset.count).contains($0) }) {
            throw FileFormatError(path: options.patches, problem: "has \(dataset.count) patches; row \(bad) does not exist")
        }
        guard !rows.isEmpty else { throw FileFormatError(path: options.patches, problem: "no patch to explain (empty split?)") }
        let loader = BatchLoader(dataset: dataset, split: nil, batchSize: 1, seed: 0, augment: false, shuffle: false, padShards: false,
                                 normalization: try .of(model.modelConfig, for: dataset))
        let area = h * w, sample = area * c
        var input = [Float](repeating: 0, count: rows.count * sample), labels: [Int32] = []
        _ = try input.withUnsafeMutableBufferPointer { try loader.fill(rows: rows, epoch: 0, into: $0, labels: &labels) }
        let logits = model.predict(Tensor(shape: [rows.count, h, w, c], scalars: input)).scalars
        let predicted = (0..<rows.count).map { i in (0..<k).max { logits[i * k + $0] < logits[i * k + $1] }! }
        let classes = options.targetClass.map { [Int](repeating: $0, count: rows.count) } ?? predicted
        var maps: [Float] = []
        let chunk = 64
        for start in stride(from: 0, to: rows.count, by: chunk) {
            let n = min(chunk, rows.count - start)
            let chunkMaps = saliency.maps(Array(input[start * sample ..< (start + n) * sample]), batch: n,
                                          classes: Array(classes[start..<start + n]), method: options.method)
            // Colour input: the channels' gradients summed per pixel (Grad-CAM maps have one already).
            let perPixel = chunkMaps.count / (n * area)
            maps += perPixel == 1 ? chunkMaps : (0..<(n * area)).map { i in (0..<perPixel).reduce(0) { $0 + chunkMaps[i * perPixel + $1] } }
            progress(start + n, rows.count)
        }
        try output.write { temporary in
            let file = try HDF5File.create(temporary)
            let config = ["checkpoint": options.checkpoint, "patches": options.patches, "method": options.method.rawValue,
                          "layer": options.method == .guidedBackprop ? "" : saliency.layerName]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
            try FileHeader(format, config: json).write(to: file)
            try file.setAttribute("method", options.method.rawValue)
            try file.write("rows", rows.map(Int64.init), shape: [rows.count])
            try file.write("labels", labels.map(Int64.init), shape: [rows.count])
            try file.write("predicted", predicted.map(Int64.init), shape: [rows.count])
            try file.write("class", classes.map(Int64.init), shape: [rows.count])
            try file.write("patches", input, shape: c == 1 ? [rows.count, h, w] : [rows.count, h, w, c])
            try file.write("maps", maps, shape: [rows.count, h, w])
            try file.close()
        }
        if let folder = options.pngFolder {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (i, row) in rows.enumerated() {
                // Colour tiles are shown as they are (8-bit RGB); grey patches scaled to their range.
                let display = c == 3 ? try dataset.patch(row).map { Float($0) / 255 } : Array(input[i * sample ..< (i + 1) * sample])
                let png = PNGWriter.encode(rgb: strip(patch: display, channels: c, map: Array(maps[i * area ..< (i + 1) * area]),
                                                      height: h, width: w),
                                           width: 3 * w, height: h)
                try AtomicFile.write(png, to: folder + "/row\(row)-class\(classes[i]).png")
            }
        }
        log("saliency: \(options.method.rawValue) maps of \(rows.count) patch(es)"
            + (options.method == .guidedBackprop ? "" : " (Grad-CAM at \(saliency.layerName))") + " → \(options.output)"
            + (options.pngFolder.map { ", PNGs in \($0)" } ?? ""))
        return rows.count
    }

    /// patch (grey, or a colour tile as it is) | map (heat) | map over the patch, the grey patch and
    /// the map each scaled to their own range.
    static func strip(patch: [Float], channels: Int = 1, map: [Float], height: Int, width: Int) -> [UInt8] {
        func scaled(_ v: [Float], absolute: Bool) -> [Float] {
            let values = absolute ? v.map(abs) : v
            let lo = absolute ? 0 : values.min()!, hi = values.max()!
            return values.map { hi > lo ? ($0 - lo) / (hi - lo) : 0 }
        }
        let grey = channels == 1 ? scaled(patch, absolute: false) : patch, heat = scaled(map, absolute: true)
        func colour(_ t: Float) -> (Float, Float, Float) { (min(1, 2 * t), max(0, min(1, 2 * t - 0.5)), max(0, 2 * t - 1)) }   // black→red→yellow→white
        let (s, w) = (height, width)
        var rgb = [UInt8](repeating: 0, count: 3 * w * s * 3)
        func put(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
            let o = (y * 3 * w + x) * 3
            rgb[o] = UInt8(255 * min(1, max(0, c.0))); rgb[o + 1] = UInt8(255 * min(1, max(0, c.1))); rgb[o + 2] = UInt8(255 * min(1, max(0, c.2)))
        }
        for y in 0..<s { for x in 0..<w {
            let p = y * w + x
            let g = channels == 1 ? (grey[p], grey[p], grey[p]) : (grey[p * channels], grey[p * channels + 1], grey[p * channels + 2])
            let h = colour(heat[p])
            put(x, y, g)
            put(w + x, y, h)
            let a = 0.6 * heat[p]
            put(2 * w + x, y, ((1 - a) * g.0 + a * h.0, (1 - a) * g.1 + a * h.1, (1 - a) * g.2 + a * h.2))
        } }
        return rgb
    }
}
