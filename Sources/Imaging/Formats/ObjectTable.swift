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

    /// True if `path` starts with the header line of an object CSV / per-image CSV (a file
    /// `segment --overwrite` may replace).
    public static func isObjectsCSV(_ path: String) -> Bool { firstLine(path) == objectColumns.joined(separator: ",") }
    public static func isImagesCSV(_ path: String) -> Bool { firstLine(path) == imageColumns.joined(separator: ",") }

    static func firstLine(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        return String(decoding: head, as: UTF8.self).split(separator: "\n", maxSplits: 1).first.map(String.init)
    }

    /// Writes OUT.csv and OUT.images.csv (paths checked by the caller).
    public static func writeCSV(_ images: [SegmentedImage], objects: OutputFile, images imagesFile: OutputFile) throws {
        let (text, summary) = csvTexts(images)
        try OutputFile.writeTogether([(objects, { try AtomicFile.writeBytes(Data(text.utf8), to: $0) }),
                                      (imagesFile, { try AtomicFile.writeBytes(Data(summary.utf8), to: $0) })])
    }

    public static func writeCSV(_ images: [SegmentedImage], to path: String) throws {
        let (text, summary) = csvTexts(images)
        try AtomicFile.write(Data(text.utf8), to: path)
        try AtomicFile.write(Data(summary.utf8), to: imagesCSVPath(for: path))
    }

    static func csvTexts(_ images: [SegmentedImage]) -> (objects: String, images: String) {
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
        return (text, summary)
    }

    public static func writeHDF5(_ images: [SegmentedImage], to output: OutputFile, configJSON: String) throws {
        try writeHDF5(images, to: output.path, configJSON: configJSON)
    }

    /// The HDF5 object table (`netosis segment --out OUT.h5`); `readHDF5` is its reader.
    /// Version 1: /images/{path,status,error,width,height,object_count,seconds,cpu_seconds},
    /// /objects/{image_index,label,x,y,bbox,area,mean_intensity,max_intensity,solidity,eccentricity}.
    public static let format = FileFormat(name: "netosis.segmentation", version: 1, madeBy: "netosis segment --out OUT.h5")

    public static func writeHDF5(_ images: [SegmentedImage], to path: String, configJSON: String) throws {
        try AtomicFile.write(to: path) { tmp in
            let file = try HDF5File.create(tmp)
            try FileHeader(format, config: configJSON).write(to: file)
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
            try file.close()
        }
    }

    /// Reads an HDF5 object table back (objects in image order; `nuclei` of failed images are empty).
    public static func readHDF5(_ path: String) throws -> (header: FileHeader, images: [SegmentedImage]) {
        let (file, header) = try FileHeader.open(path, expecting: format)
        func bad(_ problem: String) -> FileFormatError { FileFormatError(path: path, problem: problem) }
        do {
            let g = try file.group("images"), o = try file.group("objects")
            let paths = try g.dataset("path").readStrings(), status = try g.dataset("status").readStrings()
            let errors = try g.dataset("error").readStrings()
            let width: [Int32] = try g.read("width"), height: [Int32] = try g.read("height")
            let counts: [Int32] = try g.read("object_count")
            let seconds: [Double] = try g.read("seconds"), cpu: [Double] = try g.read("cpu_seconds")
            let m = paths.count
            guard [status.count, errors.count, width.count, height.count, counts.count, seconds.count, cpu.count]
                .allSatisfy({ $0 == m }) else { throw bad("/images columns have different lengths") }
            let imageIndex: [Int32] = try o.read("image_index"), label: [Int32] = try o.read("label")
            let x: [Float] = try o.read("x"), y: [Float] = try o.read("y"), bbox: [Int32] = try o.read("bbox")
            let area: [Int32] = try o.read("area"), mean: [Float] = try o.read("mean_intensity")
            let maxI: [Float] = try o.read("max_intensity"), solidity: [Float] = try o.read("solidity")
            let ecc: [Float] = try o.read("eccentricity")
            let n = imageIndex.count
            guard [label.count, x.count, y.count, area.count, mean.count, maxI.count, solidity.count, ecc.count]
                .allSatisfy({ $0 == n }), bbox.count == 4 * n else { throw bad("/objects columns have different lengths") }
            var images = (0..<m).map {
                SegmentedImage(path: paths[$0], status: status[$0], error: errors[$0], width: Int(width[$0]),
                               height: Int(height[$0]), seconds: seconds[$0], cpuSeconds: cpu[$0], nuclei: [])
            }
            for k in 0..<n {
                let i = Int(imageIndex[k])
                guard images.indices.contains(i) else { throw bad("/objects/image_index[\(k)] = \(i) but /images has \(m) rows") }
                images[i].nuclei.append(Nucleus(
                    label: Int(label[k]), centroidX: Double(x[k]), centroidY: Double(y[k]),
                    minX: Int(bbox[4 * k]), minY: Int(bbox[4 * k + 1]), maxX: Int(bbox[4 * k + 2]), maxY: Int(bbox[4 * k + 3]),
                    area: Int(area[k]), meanIntensity: Double(mean[k]), maxIntensity: Double(maxI[k]),
                    solidity: Double(solidity[k]), eccentricity: Double(ecc[k])))
            }
            for (i, image) in images.enumerated() where image.nuclei.count != Int(counts[i]) {
                throw bad("/images/object_count[\(i)] = \(counts[i]) but /objects holds \(image.nuclei.count) rows for it")
            }
            return (header, images)
        } catch let error as FileFormatError {
            throw error
        } catch {
            throw bad("not a complete object table: \(error)")
        }
    }

    static func fmt(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return String(format: "%.4f", v)
    }
}
