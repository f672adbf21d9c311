import ArgumentParser
import Cluster
import Foundation
import Imaging

struct Segment: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find nuclei in images and write the object table (CSV or HDF5).",
        discussion: """
        --input is one image or a folder searched recursively for .tif/.tiff. Every object gets its
        centroid, bounding box, area, mean/max intensity, solidity and eccentricity (docs/segmentation.md).
        OUT.csv: one row per object, plus OUT.images.csv with one row per image (status, error, count).
        OUT.h5: /images/* and /objects/* columns with the configuration as an attribute.
        An unreadable image is reported (file and problem) and recorded as failed; the others are
        processed. With --annotations, markers (Cell Counter XML or points CSV, matched to images by
        Image_Filename or file name) are compared with the objects: coverage within label_radius and
        objects that absorbed two or more markers. Under mpirun, images are shared over ranks.
        """)

    @Option(help: "An image (.tif/.tiff) or a folder of images (searched recursively).")
    var input: String

    @Option(help: "Output: OUT.csv or OUT.h5.")
    var out: String

    @Option(help: "Segmentation YAML (default: built-in settings, identical to config/segmentation.yaml).")
    var config: String?

    @Option(help: "Folder of annotation files to report marker coverage (CellCounter_<stem>.xml, <stem>.xml or <stem>.csv).")
    var annotations: String?

    @Option(help: "Marker type → class map YAML; markers of ignored types are left out of the coverage report.")
    var classMap: String?

    @Option(help: "Marker types counted in the coverage report (default: types mapped to non-NETotic or NETotic).")
    var coverageTypes: [Int] = []

    @Flag(help: "One line per image.")
    var verbose = false

    func validate() throws {
        let lower = out.lowercased()
        guard lower.hasSuffix(".csv") || lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") else {
            throw ValidationError("--out must end in .csv or .h5 (got \(out))")
        }
    }

    func run(on world: Communicator) throws {
        let settings = try config.map { try SegmentationConfig.load($0) } ?? .standard
        let classes = try classMap.map { try ClassMap.load($0) } ?? .standard
        let paths = try SegmentInputs.images(input)
        let outDir = URL(fileURLWithPath: out).deletingLastPathComponent().path
        if world.isRoot {
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: outDir, isDirectory: &isDir) {
                try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
            } else if !isDir.boolValue {
                throw ValidationError("\(outDir): exists and is not a folder (needed for --out \(out))")
            }
        }
        let pairing = try annotations.map { try SegmentInputs.pairAnnotations($0, images: paths) }
        let segmenter = Segmenter(config: settings)
        let progress = ProgressLine("segment", rank: world.rank)

        // Shard: image i goes to rank i % size.
        var mine: [Int: SegmentedImage] = [:]
        var myCoverage: [Int: MarkerCoverage] = [:]
        var myWarnings: [String] = []
        let typesCounted: Set<Int> = coverageTypes.isEmpty
            ? Set((1...64).filter { t in classes.nucleusClass(forType: t).map { $0 != .other } ?? false })
            : Set(coverageTypes)
        for i in stride(from: world.rank, to: paths.count, by: world.size) {
            let outcome = SegmentOne.run(paths[i], segmenter: segmenter, annotations: pairing?.sets[paths[i]],
                                         coverageTypes: typesCounted)
            mine[i] = outcome.image
            if let c = outcome.coverage { myCoverage[i] = c }
            myWarnings += outcome.warnings
            progress.update(min(i + world.size, paths.count), paths.count)  // rank 0 speaks for all
        }

        // Gather at rank 0 (JSON per rank).
        struct Part: Codable { var images: [Int: SegmentedImage]; var coverage: [Int: MarkerCoverage]; var warnings: [String] }
        let bytes = try JSONEncoder().encode(Part(images: mine, coverage: myCoverage, warnings: myWarnings))
        guard let parts = try world.gather(bytes: [UInt8](bytes)) else { return }
        var all: [Int: SegmentedImage] = [:], coverage: [Int: MarkerCoverage] = [:], warnings: [String] = []
        for p in parts {
            let part = try JSONDecoder().decode(Part.self, from: Data(p))
            all.merge(part.images) { a, _ in a }
            coverage.merge(part.coverage) { a, _ in a }
            warnings += part.warnings
        }
        let results = (0..<paths.count).map { all[$0]! }

        if out.lowercased().hasSuffix(".csv") {
            try ObjectTable.writeCSV(results, to: out)
        } else {
            try ObjectTable.writeHDF5(results, to: out, configJSON: settings.json(), toolVersion: NetosisVersion.string)
        }

        let stderr = FileHandle.standardError
        for w in (pairing?.problems ?? []) + warnings { stderr.write(Data("warning: \(w)\n".utf8)) }
        for r in results where r.status != "ok" { stderr.write(Data("error: \(r.error)\n".utf8)) }
        if verbose {
            for (i, r) in results.enumerated() where r.status == "ok" {
                var line = String(format: "%@: %d objects, %.3f s", r.path, r.nuclei.count, r.seconds)
                if let c = coverage[i] {
                    line += String(format: ", markers covered %d/%d, multi-marker objects %d", c.covered, c.markers, c.multiObjects)
                }
                print(line)
            }
        }
        let ok = results.filter { $0.status == "ok" }
        let objects = ok.reduce(0) { $0 + $1.nuclei.count }
        print("segment: \(ok.count)/\(results.count) images, \(objects) objects → \(out)"
              + (out.lowercased().hasSuffix(".csv") ? " (+ \(ObjectTable.imagesCSVPath(for: out)))" : ""))
        if pairing != nil {
            var total = MarkerCoverage()
            for c in coverage.values { total.add(c) }
            print(String(format: "markers (types %@): %.2f%% within label_radius %.1f px (%d/%d); %.2f%% of matched objects hold ≥ 2 markers (%d/%d)",
                         typesCounted.sorted().map(String.init).joined(separator: ","), 100 * total.coverage, settings.labelRadius,
                         total.covered, total.markers, 100 * total.multiFraction, total.multiObjects, total.matchedObjects))
        }
        fflush(stdout)
        if ok.isEmpty { throw ValidationError("no image could be segmented (\(results.count) failed; see the errors above)") }
    }
}

