import Analysis
import Foundation
import Storage

/// Settings of one `netosis export` run.
public struct ExportOptions: Sendable {
    public var results: [String]
    /// Folder for images.csv, wells.csv and objects.csv (created if missing).
    public var folder: String
    public var plateMap: String?
    /// Replace CSVs an earlier export wrote there (other files are never replaced).
    public var overwrite: Bool

    public init(results: [String], folder: String, plateMap: String? = nil, overwrite: Bool = false) {
        self.results = results; self.folder = folder; self.plateMap = plateMap; self.overwrite = overwrite
    }
}

/// `netosis export`: per-image, per-well and per-object CSV from one or many results files, with
/// the plate-map columns joined on plate + well — tables for pandas and GraphPad Prism.
public enum ExportJob {
    public static let files = ["images.csv", "wells.csv", "objects.csv"]
    static let imageColumns = ["plate", "well", "field", "image", "status", "error", "objects", "count_other",
                               "count_non_netotic", "count_netotic", "percent_netotic", "mean_prob_other",
                               "mean_prob_non_netotic", "mean_prob_netotic", "width", "height", "checkpoint_id",
                               "path", "results_file"]
    static let wellColumns = ["plate", "well", "images", "images_failed", "objects", "count_other", "count_non_netotic",
                              "count_netotic", "percent_netotic", "mean_image_percent_netotic"]
    static let objectColumns = ["plate", "well", "image", "object", "x", "y", "min_x", "min_y", "max_x", "max_y", "area",
                                "intensity", "solidity", "class", "class_name", "prob_other", "prob_non_netotic",
                                "prob_netotic"]

    public struct Summary: Sendable {
        public var images = 0, wells = 0, objects = 0, unmapped = 0
        public var duplicates: [String] = []
    }

    @discardableResult
    public static func run(_ options: ExportOptions, log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
    throws -> Summary {
        let set = try ResultsSet.read(options.results)
        let map = try set.plateMap(given: options.plateMap)
        try FileManager.default.createDirectory(atPath: options.folder, withIntermediateDirectories: true)
        let outputs = try files.enumerated().map { i, name -> OutputFile in
            let header = [imageColumns, wellColumns, objectColumns][i]
            let path = (options.folder as NSString).appendingPathComponent(name)
            return try OutputFile.check(path, kind: "netosis export table", inputs: options.results + [options.plateMap].compactMap { $0 },
                                        overwrite: options.overwrite) { firstLine($0)?.hasPrefix(header.joined(separator: ",")) ?? false }
        }
        for line in set.duplicates { warn(line) }
        var summary = Summary()
        summary.duplicates = set.duplicates
        let mapColumns = map.map { Array($0.columns.filter { $0 != "plate" && $0 != "well" }) } ?? []
        func mapped(_ plate: String, _ well: String) -> [String] {
            guard let map else { return [] }
            guard let entry = map.entry(plate: plate, well: well) else { return [String](repeating: "", count: mapColumns.count) }
            return zip(map.columns, entry.fields).filter { $0.0 != "plate" && $0.0 != "well" }.map(\.1)
        }
        var unmapped = Set<String>()

        var images = line(imageColumns + mapColumns)
        var objects = line(objectColumns)
        struct Well { var images = 0, failed = 0, counts = [0, 0, 0], percents: [Double] = [] }
        var wells: [String: Well] = [:], wellOrder: [(String, String)] = []
        for row in set.rows {
            let r = row.result.image, o = row.result.objects
            if map != nil, map!.entry(plate: r.plate, well: r.well) == nil { unmapped.insert("\(r.plate) \(r.well)") }
            images += line([r.plate, r.well, r.field, r.name, r.status, r.error, "\(r.objects)"] + r.counts.map(String.init)
                           + [number(r.percentNETotic)] + r.meanProbabilities.map(number)
                           + ["\(r.width)", "\(r.height)", r.checkpointID, r.path, row.file] + mapped(r.plate, r.well))
            let key = r.plate + "\u{1}" + r.well
            if wells[key] == nil { wellOrder.append((r.plate, r.well)) }
            var w = wells[key] ?? Well()
            if r.isOK {
                w.images += 1
                for k in 0..<3 { w.counts[k] += r.counts[k] }
                if !r.percentNETotic.isNaN { w.percents.append(r.percentNETotic) }
            } else {
                w.failed += 1
            }
            wells[key] = w
            for i in 0..<o.count {
                let c = Int(o.classes[i])
                objects += line([r.plate, r.well, r.name, "\(i)", number(Double(o.x[i])), number(Double(o.y[i]))]
                                + o.bbox[4 * i..<4 * i + 4].map { "\($0)" }
                                + ["\(o.area[i])", number(Double(o.intensity[i])), number(Double(o.solidity[i])), "\(c)",
                                   ScreenClasses.names[c]] + o.probabilities[3 * i..<3 * i + 3].map { number(Double($0)) })
            }
            summary.objects += o.count
        }
        var wellText = line(wellColumns + mapColumns)
        for (plate, well) in wellOrder {
            let w = wells[plate + "\u{1}" + well]!
            let d = w.counts[1] + w.counts[2]
            let pooled = d > 0 ? 100 * Double(w.counts[2]) / Double(d) : .nan
            let mean = w.percents.isEmpty ? .nan : w.percents.reduce(0, +) / Double(w.percents.count)
            wellText += line([plate, well, "\(w.images)", "\(w.failed)", "\(w.counts.reduce(0, +))"] + w.counts.map(String.init)
                             + [number(pooled), number(mean)] + mapped(plate, well))
        }
        summary.images = set.rows.count
        summary.wells = wellOrder.count
        summary.unmapped = unmapped.count
        if let map, !unmapped.isEmpty {
            let examples = unmapped.sorted().prefix(3).joined(separator: ", ")
            warn("\(map.path): \(unmapped.count) well(s) of the results are not in the plate map (e.g. \(examples)); their plate-map columns are empty")
        }
        try OutputFile.writeTogether(zip(outputs, [images, wellText, objects]).map { output, text in
            (output, { try AtomicFile.writeBytes(Data(text.utf8), to: $0) })
        })
        log("export: \(summary.images) image(s), \(summary.wells) well(s), \(summary.objects) object(s) from \(options.results.count) results file(s) → "
            + files.map { (options.folder as NSString).appendingPathComponent($0) }.joined(separator: ", "))
        return summary
    }

    /// One CSV line (fields with commas, quotes or line breaks quoted).
    static func line(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(",") || f.contains("\"") || f.contains("\n") ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: ",") + "\n"
    }

    /// Shortest text that reads back to the same Double; NaN as an empty cell (pandas and Prism read it as missing).
    static func number(_ v: Double) -> String {
        v.isNaN ? "" : (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)")
    }

    static func firstLine(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4096)) ?? Data()
        return String(decoding: head, as: UTF8.self).split(separator: "\n", maxSplits: 1).first.map(String.init)
    }
}
