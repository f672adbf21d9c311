import Foundation
import Imaging
import Storage

/// What produced a results file: a rerun into the same file must match it (checkpoint checksum,
/// segmentation, method, normalisation, patch size), so rows from two models never mix.
public struct ScreenIdentity: Codable, Equatable, Sendable {
    public var checkpoint: String
    public var checkpointSHA256: String
    /// First 12 hex digits of the checksum (the `checkpoint_id` column).
    public var checkpointID: String { String(checkpointSHA256.prefix(12)) }
    /// The checkpoint's model configuration (JSON).
    public var model: String
    public var segmentation: SegmentationConfig
    /// "ol" (object level: segment, then classify each nucleus' patch) or "rule" (the ImageJ
    /// solidity rule; `model` then holds the rule's JSON and `patchSize` is 0).
    public var method: String
    public var normalization: String
    public var patchSize: Int
    public var classes: [String]

    enum CodingKeys: String, CodingKey {
        case checkpoint, checkpointSHA256 = "checkpoint_sha256", model, segmentation, method, normalization
        case patchSize = "patch_size", classes
    }

    /// Why rows made under `other` cannot join rows made under `self`, or nil if they can.
    public func conflict(with other: ScreenIdentity) -> String? {
        if checkpointSHA256 != other.checkpointSHA256 {
            return "was screened with checkpoint \(other.checkpoint) (sha256 \(other.checkpointID)…), not \(checkpoint) (\(checkpointID)…)"
        }
        if segmentation != other.segmentation { return "was screened with another segmentation configuration" }
        if method != other.method { return "was screened with method \(other.method), not \(method)" }
        if normalization != other.normalization { return "was screened with --normalize \(other.normalization), not \(normalization)" }
        if patchSize != other.patchSize { return "was screened with \(other.patchSize)-pixel patches, not \(patchSize)" }
        return nil
    }
}

/// results.h5, written by `netosis screen` (schema in docs/file-formats.md).
///
/// Version 1: root attributes `format`, `format_version`, `created`, `tool_version`, `config` (the
/// `ScreenIdentity` JSON), `checkpoint`, `checkpoint_sha256`, `checkpoint_id`, `method`,
/// `segmentation` (JSON), `model` (JSON); `/platemap` (optional: one string, the CSV text given to
/// `screen --platemap`, attribute `path`); `/images/*` one row per image, `/objects/*` one row per
/// object (`image` = its row in /images). Rows are sorted by image name, so the file does not depend
/// on the order images finished in or on the rank count.
public enum ResultsFile {
    public static let format = FileFormat(name: "netosis.results", version: 1, madeBy: "netosis screen")

    public struct Contents: Sendable {
        public var identity: ScreenIdentity
        public var header: FileHeader
        public var results: [ScreenResult]
        /// The plate map `screen` was given (CSV text and where it came from), if any.
        public var plateMap: (text: String, path: String)?
    }

    /// Writes the rows sorted by image name into `path` (the caller makes it atomic).
    public static func write(_ results: [ScreenResult], identity: ScreenIdentity, plateMap: (text: String, path: String)? = nil,
                             to path: String) throws {
        let rows = results.sorted { $0.image.name < $1.image.name }
        let file = try HDF5File.create(path)
        let json = String(decoding: try encoder().encode(identity), as: UTF8.self)
        try FileHeader(format, config: json).write(to: file)
        try file.setAttribute("checkpoint", identity.checkpoint)
        try file.setAttribute("checkpoint_sha256", identity.checkpointSHA256)
        try file.setAttribute("checkpoint_id", identity.checkpointID)
        try file.setAttribute("method", identity.method)
        try file.setAttribute("segmentation", String(decoding: try encoder().encode(identity.segmentation), as: UTF8.self))
        try file.setAttribute("model", identity.model)
        if let plateMap {  // a dataset, not an attribute: 20 plates of 96 wells exceed an attribute's 64 kB
            try file.writeStrings("platemap", [plateMap.text]).setAttribute("path", plateMap.path)
        }

        let images = rows.map(\.image)
        let g = try file.createGroup("images")
        let opts = DatasetOptions.appendable(chunkRows: 1024)
        try g.writeStrings("name", images.map(\.name))
        try g.writeStrings("plate", images.map(\.plate))
        try g.writeStrings("well", images.map(\.well))
        try g.writeStrings("field", images.map(\.field))
        try g.writeStrings("path", images.map(\.path))
        try g.writeStrings("status", images.map(\.status))
        try g.writeStrings("error", images.map(\.error))
        try g.write("width", images.map { Int32($0.width) }, options: opts)
        try g.write("height", images.map { Int32($0.height) }, options: opts)
        try g.write("objects", images.map { Int64($0.objects) }, options: opts)
        for (k, key) in ScreenClasses.keys.enumerated() {
            try g.write("count_\(key)", images.map { Int64($0.counts[k]) }, options: opts)
        }
        try g.write("percent_netotic", images.map(\.percentNETotic), options: opts)
        for (k, key) in ScreenClasses.keys.enumerated() {
            try g.write("mean_prob_\(key)", images.map { $0.meanProbabilities[k] }, options: opts)
        }
        try g.writeStrings("checkpoint_id", images.map(\.checkpointID))
        try g.write("seconds", images.map(\.seconds), options: opts)
        try g.write("rank", images.map { Int32($0.rank) }, options: opts)
        for (k, key) in ScreenStages.keys.enumerated() { try g.write(key, images.map { $0.stageSeconds[k] }, options: opts) }
        var first: [Int64] = [], total: Int64 = 0
        for r in rows { first.append(total); total += Int64(r.objects.count) }
        try g.write("first_object", first, options: opts)

        var all = ObjectRows(), image: [Int64] = []
        for (i, r) in rows.enumerated() {
            let o = r.objects
            image += [Int64](repeating: Int64(i), count: o.count)
            all.x += o.x; all.y += o.y; all.bbox += o.bbox; all.area += o.area; all.intensity += o.intensity
            all.solidity += o.solidity; all.classes += o.classes; all.probabilities += o.probabilities
        }
        let n = image.count, k = ScreenClasses.names.count
        let o = try file.createGroup("objects")
        let rowsOpts = DatasetOptions.appendable(chunkRows: 8192)
        try o.write("image", image, options: rowsOpts)
        try o.write("x", all.x, options: rowsOpts)
        try o.write("y", all.y, options: rowsOpts)
        try o.write("bbox", all.bbox, shape: [n, 4], options: .appendable(rowShape: [4], chunkRows: 8192))
        try o.write("area", all.area, options: rowsOpts)
        try o.write("intensity", all.intensity, options: rowsOpts)
        try o.write("solidity", all.solidity, options: rowsOpts)
        try o.write("class", all.classes, options: rowsOpts)
        try o.write("probabilities", all.probabilities, shape: [n, k], options: .appendable(rowShape: [k], chunkRows: 8192))
        for (c, key) in ScreenClasses.keys.enumerated() {
            try o.write("prob_\(key)", (0..<n).map { all.probabilities[$0 * k + c] }, options: rowsOpts)
        }
        try file.close()
    }

    /// Reads a results file back (header and identity checked; every column's length checked).
    public static func read(_ path: String) throws -> Contents {
        let (file, header) = try FileHeader.open(path, expecting: format)
        if file.hasAttribute("task"), try file.stringAttribute("task") == "image-classification" {
            throw FileFormatError(path: path, problem: "holds whole-image classification results (`evaluate --predictions`), not a plate screen's nuclei")
        }
        func bad(_ problem: String) -> FileFormatError { FileFormatError(path: path, problem: problem) }
        do {
            guard let identity = try? JSONDecoder().decode(ScreenIdentity.self, from: Data(header.config.utf8)) else {
                throw bad("attribute 'config' is not a screen configuration")
            }
            let g = try file.group("images"), o = try file.group("objects")
            let names = try g.dataset("name").readStrings()
            let m = names.count
            func strings(_ name: String) throws -> [String] {
                let v = try g.dataset(name).readStrings()
                guard v.count == m else { throw bad("/images/\(name) has \(v.count) rows, /images/name \(m)") }
                return v
            }
            func column<T: HDF5Scalar>(_ group: HDF5Group, _ name: String, _ rows: Int, as: T.Type) throws -> [T] {
                let v: [T] = try group.read(name)
                guard v.count == rows else { throw bad("/\(group === g ? "images" : "objects")/\(name) has \(v.count) values, expected \(rows)") }
                return v
            }
            let plate = try strings("plate"), well = try strings("well"), field = try strings("field")
            let paths = try strings("path"), status = try strings("status"), errors = try strings("error")
            let ids = try strings("checkpoint_id")
            let width = try column(g, "width", m, as: Int32.self), height = try column(g, "height", m, as: Int32.self)
            let counts = try ScreenClasses.keys.map { try column(g, "count_\($0)", m, as: Int64.self) }
            let means = try ScreenClasses.keys.map { try column(g, "mean_prob_\($0)", m, as: Double.self) }
            let seconds = try column(g, "seconds", m, as: Double.self), rank = try column(g, "rank", m, as: Int32.self)
            let stages = try ScreenStages.keys.map { try column(g, $0, m, as: Double.self) }
            let first = try column(g, "first_object", m, as: Int64.self)
            let image: [Int64] = try o.read("image")
            let n = image.count, k = ScreenClasses.names.count
            let x = try column(o, "x", n, as: Float.self), y = try column(o, "y", n, as: Float.self)
            let bbox = try column(o, "bbox", 4 * n, as: Int32.self), area = try column(o, "area", n, as: Int32.self)
            let intensity = try column(o, "intensity", n, as: Float.self)
            let solidity = try column(o, "solidity", n, as: Float.self)
            let classes = try column(o, "class", n, as: Int8.self)
            let probabilities = try column(o, "probabilities", k * n, as: Float.self)
            var results: [ScreenResult] = []
            results.reserveCapacity(m)
            for i in 0..<m {
                let lo = Int(first[i]), hi = i + 1 < m ? Int(first[i + 1]) : n
                guard lo >= 0, lo <= hi, hi <= n, image[lo..<hi].allSatisfy({ $0 == Int64(i) }) else {
                    throw bad("/images/first_object[\(i)] = \(lo) does not match /objects/image")
                }
                var rows = ObjectRows()
                rows.x = Array(x[lo..<hi]); rows.y = Array(y[lo..<hi]); rows.bbox = Array(bbox[4 * lo..<4 * hi])
                rows.area = Array(area[lo..<hi]); rows.intensity = Array(intensity[lo..<hi])
                rows.solidity = Array(solidity[lo..<hi]); rows.classes = Array(classes[lo..<hi])
                rows.probabilities = Array(probabilities[k * lo..<k * hi])
                var row = ScreenedImage(name: names[i], plate: plate[i], well: well[i], field: field[i], path: paths[i],
                                        status: status[i], error: errors[i], width: Int(width[i]), height: Int(height[i]),
                                        counts: counts.map { Int($0[i]) }, meanProbabilities: means.map { $0[i] },
                                        checkpointID: ids[i], seconds: seconds[i], rank: Int(rank[i]))
                row.stageSeconds = stages.map { $0[i] }
                // The PL counter counts whole images: its rows have counts and never objects.
                let countsWithoutObjects = identity.method == ScreenMethodName.pl.rawValue
                guard countsWithoutObjects ? hi == lo : row.objects == hi - lo else {
                    throw bad("image \(names[i]) counts \(row.objects) objects but /objects holds \(hi - lo)")
                }
                results.append(ScreenResult(image: row, objects: rows))
            }
            var plateMap: (text: String, path: String)?
            if file.exists("platemap") {
                let d = try file.dataset("platemap")
                guard let text = try d.readStrings().first else { throw bad("/platemap is empty") }
                plateMap = (text, d.hasAttribute("path") ? try d.stringAttribute("path") : path)
            }
            return Contents(identity: identity, header: header, results: results, plateMap: plateMap)
        } catch let error as FileFormatError {
            throw error
        } catch {
            throw bad("not a complete results file: \(error)")
        }
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
