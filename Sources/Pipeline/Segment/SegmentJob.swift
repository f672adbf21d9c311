import Cluster
import Foundation
import Imaging
import Storage

/// Settings of one `netosis segment` run.
public struct SegmentOptions: Sendable {
    /// An image or a folder searched recursively for .tif/.tiff.
    public var input: String
    /// OUT.csv (plus OUT.images.csv) or OUT.h5.
    public var output: String
    public var segmentation: SegmentationConfig
    public var classMap: ClassMap
    /// Folder of annotation files whose markers are compared with the objects (coverage report).
    public var annotations: String?
    /// Marker types counted in the coverage report; empty: the types mapped to non-NETotic or NETotic.
    public var coverageTypes: [Int]
    /// One line per image.
    public var verbose: Bool
    /// Replace an existing object table (never another kind of file).
    public var overwrite: Bool

    public init(input: String, output: String, segmentation: SegmentationConfig = .standard, classMap: ClassMap = .standard,
                annotations: String? = nil, coverageTypes: [Int] = [], verbose: Bool = false, overwrite: Bool = false) {
        self.input = input; self.output = output; self.segmentation = segmentation; self.classMap = classMap
        self.annotations = annotations; self.coverageTypes = coverageTypes; self.verbose = verbose
        self.overwrite = overwrite
    }

    public var writesCSV: Bool { output.lowercased().hasSuffix(".csv") }
}

/// What a segment run did (rank 0's view; other ranks get nil).
public struct SegmentSummary: Sendable {
    public var images: [SegmentedImage]
    public var coverage: MarkerCoverage?
    public var okImages: Int { images.filter { $0.status == "ok" }.count }
    public var objects: Int { images.filter { $0.status == "ok" }.reduce(0) { $0 + $1.nuclei.count } }
}

/// `netosis segment`: find nuclei in images and write the object table (docs/segmentation.md).
public enum SegmentJob {
    /// OUT.csv and its OUT.images.csv, or OUT.h5, checked (see `OutputFile`).
    static func outputs(_ options: SegmentOptions, inputs: [String]) throws -> [OutputFile] {
        if options.writesCSV {
            let imagesCSV = ObjectTable.imagesCSVPath(for: options.output)
            return [
                try OutputFile.check(options.output, kind: "netosis object table (CSV)", inputs: inputs,
                                     overwrite: options.overwrite) { ObjectTable.isObjectsCSV($0) },
                try OutputFile.check(imagesCSV, kind: "netosis per-image table (CSV)", inputs: inputs,
                                     overwrite: options.overwrite) { ObjectTable.isImagesCSV($0) },
            ]
        }
        return [try OutputFile.check(options.output, kind: "netosis object table (\(ObjectTable.format.name))",
                                     inputs: inputs, overwrite: options.overwrite) { ObjectTable.format.isFormat(of: $0) }]
    }

    /// Image i goes to rank i % size; rank 0 gathers every record and writes the table, so the
    /// table is the same for any rank count. An unreadable image is recorded as failed; the run
    /// fails only when no image could be segmented.
    @discardableResult
    public static func run(_ options: SegmentOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in })
    throws -> SegmentSummary? {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let paths = try InputFiles.images(options.input, fileAllowed: true)
        // The pairing prepare uses (wells of field files are not assembled: segment reads single files).
        let pairing = try options.annotations.map {
            try AnnotationPairing.scan(images: paths, from: options.input, annotations: $0)
        }
        let annotationSets = pairing?.annotationsByImage ?? [:]
        // Outputs are checked before any image is read (rank 0 writes them; its error aborts all).
        var outputs: [OutputFile] = []
        if rank == 0 {
            let inputs = paths + (pairing?.pairs.map(\.annotationPath) ?? [])
            outputs = try self.outputs(options, inputs: inputs)
        }
        let segmenter = Segmenter(config: options.segmentation)
        let memory = ImageMemory(try MemoryBudget.current(world: world))
        let typesCounted: Set<Int> = options.coverageTypes.isEmpty
            ? Set((1...64).filter { t in options.classMap.nucleusClass(forType: t).map { $0 != .other } ?? false })
            : Set(options.coverageTypes)

        var mine: [Int: SegmentedImage] = [:]
        var myCoverage: [Int: MarkerCoverage] = [:]
        var myWarnings: [String] = []
        for i in stride(from: rank, to: paths.count, by: size) {
            let outcome = SegmentOne.run(paths[i], segmenter: segmenter, annotations: annotationSets[paths[i]],
                                         coverageTypes: typesCounted, memory: memory)
            mine[i] = outcome.image
            if let c = outcome.coverage { myCoverage[i] = c }
            myWarnings += outcome.warnings
            progress(min(i + size, paths.count), paths.count)  // rank 0 speaks for all
            try FaultPoint.pass("segment-image")
        }

        // Gather at rank 0 (JSON per rank).
        struct Part: Codable { var images: [Int: SegmentedImage]; var coverage: [Int: MarkerCoverage]; var warnings: [String] }
        var all: [Int: SegmentedImage] = mine, coverage: [Int: MarkerCoverage] = myCoverage, warnings: [String] = myWarnings
        if let world, size > 1 {
            let bytes = try JSONEncoder().encode(Part(images: mine, coverage: myCoverage, warnings: myWarnings))
            guard let parts = try world.gather(bytes: [UInt8](bytes)) else { return nil }
            all = [:]; coverage = [:]; warnings = []
            for p in parts {
                let part = try JSONDecoder().decode(Part.self, from: Data(p))
                all.merge(part.images) { a, _ in a }
                coverage.merge(part.coverage) { a, _ in a }
                warnings += part.warnings
            }
        }
        let results = (0..<paths.count).map { all[$0]! }
        for w in (pairing?.problems ?? []) + warnings { warn(w) }
        for r in results where r.status != "ok" { warn(r.error) }
        // A run where nothing could be read leaves any earlier table as it was.
        guard results.contains(where: { $0.status == "ok" }) else {
            throw ImageError(path: options.input, problem: "no image could be segmented (\(results.count) failed; see the warnings above); \(options.output) was not written")
        }

        if options.writesCSV {
            try ObjectTable.writeCSV(results, objects: outputs[0], images: outputs[1])
        } else {
            try ObjectTable.writeHDF5(results, to: outputs[0], configJSON: options.segmentation.json())
        }

        if options.verbose {
            for (i, r) in results.enumerated() where r.status == "ok" {
                var line = String(format: "%@: %d objects, %.3f s", r.path, r.nuclei.count, r.seconds)
                if let c = coverage[i] {
                    line += String(format: ", markers covered %d/%d, multi-marker objects %d", c.covered, c.markers, c.multiObjects)
                }
                log(line)
            }
        }
        var summary = SegmentSummary(images: results, coverage: nil)
        log("segment: \(summary.okImages)/\(results.count) images, \(summary.objects) objects → \(options.output)"
            + (options.writesCSV ? " (+ \(ObjectTable.imagesCSVPath(for: options.output)))" : ""))
        if pairing != nil {
            var total = MarkerCoverage()
            for c in coverage.values { total.add(c) }
            summary.coverage = total
            log(String(format: "markers (types %@): %.2f%% within label_radius %.1f px (%d/%d); %.2f%% of matched objects hold ≥ 2 markers (%d/%d)",
                       typesCounted.sorted().map(String.init).joined(separator: ","), 100 * total.coverage,
                       options.segmentation.labelRadius, total.covered, total.markers, 100 * total.multiFraction,
                       total.multiObjects, total.matchedObjects))
        }
        return summary
    }
}
