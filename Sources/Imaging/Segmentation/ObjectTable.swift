import Foundation
import Storage

/// The result of segmenting one image file, as `netosis segment` records it.
public struct SegmentedImage: Codable, Sendable {
    public var path: String
    /// "ok" or "failed".
    public var status: String
    /// The problem, for failed images ("" when ok).
    public var error: String
    public var width: Int
    public var height: Int
    /// Wall-clock seconds to read and segment the image.
    public var seconds: Double
    /// CPU seconds of the thread that did it (robust to a shared machine; for benchmarks).
    public var cpuSeconds: Double
    public var nuclei: [Nucleus]

    public init(path: String, status: String, error: String, width: Int, height: Int, seconds: Double,
                cpuSeconds: Double = 0, nuclei: [Nucleus]) {
        self.path = path; self.status = status; self.error = error
        self.width = width; self.height = height; self.seconds = seconds; self.cpuSeconds = cpuSeconds
        self.nuclei = nuclei
    }

    /// CPU time of the calling thread, seconds.
    public static func threadCPUTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public static func failed(_ path: String, _ problem: String) -> SegmentedImage {
        SegmentedImage(path: path, status: "failed", error: problem, width: 0, height: 0, seconds: 0, nuclei: [])
    }
}

/// Writes the object table of `netosis segment` (docs/segmentation.md "Output"):
/// CSV — one row per object, plus `<name>.images.csv` with one row per image (status, error, count);
/// HDF5 — `/images/*` and `/objects/*` column datasets with the usual provenance attributes.
public enum ObjectTable {
    public static let objectColumns = ["image", "label", "centroid_x", "centroid_y", "min_x", "min_y", "max_x", "max_y",
                                       "area", "mean_intensity", "max_intensity", "solidity", "eccentricity"]
    public static let imageColumns = ["image", "status", "error", "width", "height", "objects", "seconds", "cpu_seconds"]

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Per-image companion of an object CSV: `objects.csv` → `objects.images.csv`.
    public static func imagesCSVPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingPathExtension().path + ".images.csv"
    }

    public static func writeCSV(_ images: [SegmentedImage], to path: String) throws {
        var text = objectColumns.joined(separator: ",") + "\n"
        for image in images where image.status == "ok" {
            let name = csvField(image.path)
            for n in image.nuclei {
                text += "\(name),\(n.label),\(fmt(n.centroidX)),\(fmt(n.centroidY)),\(n.minX),\(n.minY),\(n.maxX),\(n.maxY),"
                text += "\(n.area),\(fmt(n.meanIntensity)),\(fmt(n.maxIntensity)),\(fmt(n.solidity)),\(fmt(n.eccentricity))\n"
            }
        }
        var summary = imageColumns.joined(separator: ",") + "\n"
        for image in images {
            summary += "\(csvField(image.path)),\(image.status),\(csvField(image.error)),\(image.width),\(image.height),"
            summary += "\(image.nuclei.count),\(fmt(image.seconds)),\(fmt(image.cpuSeconds))\n"
        }
        try AtomicFile.write(Data(text.utf8), to: path)
        try AtomicFile.write(Data(summary.utf8), to: imagesCSVPath(for: path))
    }

    public static func writeHDF5(_ images: [SegmentedImage], to path: String, configJSON: String, toolVersion: String) throws {
        try AtomicFile.write(to: path) { tmp in
            let file = try HDF5File.create(tmp)
            try file.setAttribute("format", "netosis.segmentation")
            try file.setAttribute("format_version", Int32(1))
            try file.setAttribute("created", ISO8601DateFormatter().string(from: Date()))
            try file.setAttribute("tool_version", toolVersion)
            try file.setAttribute("config", configJSON)
            let g = try file.createGroup("images")
            try g.writeStrings("path", images.map(\.path))
            try g.writeStrings("status", images.map(\.status))
            try g.writeStrings("error", images.map(\.error))
            try g.write("width", images.map { Int32($0.width) })
            try g.write("height", images.map { Int32($0.height) })
            try g.write("object_count", images.map { Int32($0.nuclei.count) })
            try g.write("seconds", images.map(\.seconds))
            try g.write("cpu_seconds", images.map(\.cpuSeconds))
            let o = try file.createGroup("objects")
            var imageIndex: [Int32] = [], label: [Int32] = [], x: [Float] = [], y: [Float] = []
            var bbox: [Int32] = [], area: [Int32] = [], mean: [Float] = [], maxI: [Float] = []
            var solidity: [Float] = [], ecc: [Float] = []
            for (i, image) in images.enumerated() {
                for n in image.nuclei {
                    imageIndex.append(Int32(i)); label.append(Int32(n.label))
                    x.append(Float(n.centroidX)); y.append(Float(n.centroidY))
                    bbox += [Int32(n.minX), Int32(n.minY), Int32(n.maxX), Int32(n.maxY)]
                    area.append(Int32(n.area)); mean.append(Float(n.meanIntensity)); maxI.append(Float(n.maxIntensity))
                    solidity.append(Float(n.solidity)); ecc.append(Float(n.eccentricity))
                }
            }
            let count = imageIndex.count
            let opts = DatasetOptions.appendable(chunkRows: 4096)
            try o.write("image_index", imageIndex, options: opts)
            try o.write("label", label, options: opts)
            try o.write("x", x, options: opts)
            try o.write("y", y, options: opts)
            try o.write("bbox", bbox, shape: [count, 4], options: .appendable(rowShape: [4], chunkRows: 4096))
            try o.write("area", area, options: opts)
            try o.write("mean_intensity", mean, options: opts)
            try o.write("max_intensity", maxI, options: opts)
            try o.write("solidity", solidity, options: opts)
            try o.write("eccentricity", ecc, options: opts)
        }
    }

    static func fmt(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return String(format: "%.4f", v)
    }
}
