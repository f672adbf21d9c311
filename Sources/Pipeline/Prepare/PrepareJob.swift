import Cluster
import Foundation
import Imaging
import Storage

/// Settings of one `netosis prepare` run. Optional fields fall back to what an existing file holds
/// (when appending) or to the defaults.
public struct PrepareOptions: Sendable {
    public var imagesDirectory: String
    public var annotationsDirectory: String
    public var output: String
    /// nil: the file's (appending) or `.image`.
    public var splitBy: SplitBy?
    /// nil: the file's (appending) or 0.
    public var seed: UInt64?
    /// nil: the file's (appending) or 0.1.
    public var valFraction: Double?
    /// nil: the file's (appending) or 0.2.
    public var testFraction: Double?
    /// Cross-validation: this fold's chunk of groups is test (replaces testFraction); new files only.
    public var fold: CrossValidationFold?
    /// nil: the file's (appending) or `.segment`.
    public var mode: PatchMode?
    /// nil: the file's (appending) or `segmentation.labelRadius`.
    public var labelRadius: Double?
    /// Patch size, unmatched policy, point-mode negatives (its labelRadius is replaced as above).
    public var patch: PatchConfig
    public var segmentation: SegmentationConfig
    public var classMap: ClassMap
    /// File-name patterns giving plate, well, experiment and field, and the field grid that
    /// assembles a well from its fields (config/wells.yaml).
    public var wells: WellConfig
    /// Add images to an existing file (images already in it are skipped).
    public var append: Bool
    /// Replace an existing file.
    public var overwrite: Bool
    /// Log one line per image (name, split, objects, markers matched, patches per class, seconds).
    public var verbose: Bool
    /// `--label-by platemap:agonist`: label nuclei by their well's treatment instead of their marker class.
    public var labelBy: AgonistLabels?

    public init(imagesDirectory: String, annotationsDirectory: String, output: String, splitBy: SplitBy? = nil,
                seed: UInt64? = nil, valFraction: Double? = nil, testFraction: Double? = nil, mode: PatchMode? = nil,
                labelRadius: Double? = nil, patch: PatchConfig = .standard,
                segmentation: SegmentationConfig = .standard, classMap: ClassMap = .standard,
                wells: WellConfig = .standard, append: Bool = false, overwrite: Bool = false, verbose: Bool = true) {
        self.imagesDirectory = imagesDirectory; self.annotationsDirectory = annotationsDirectory; self.output = output
        self.splitBy = splitBy; self.seed = seed; self.valFraction = valFraction; self.testFraction = testFraction
        self.mode = mode; self.labelRadius = labelRadius; self.patch = patch; self.segmentation = segmentation
        self.classMap = classMap; self.wells = wells; self.append = append; self.overwrite = overwrite
        self.verbose = verbose
    }
}

/// `prepare --label-by platemap:agonist` (the paper's phenotype and necrosis CNNs): every nucleus whose
/// marker type is in `markerTypes` is labelled by its well's agonist in the plate map — class i is
/// `agonists[i]` — and every other patch (other marker types, unmarked objects, negatives, wells of
/// other agonists) is left out. Works in both modes: the marker that labelled an object decides.
public struct AgonistLabels: Codable, Sendable, Equatable {
    /// The plate-map CSV (as given).
    public var platemap: String
    /// Class order: the agonists as written in the plate map's agonist column.
    public var agonists: [String]
    public var markerTypes: [Int]

    public init(platemap: String, agonists: [String], markerTypes: [Int]) {
        self.platemap = platemap; self.agonists = agonists; self.markerTypes = markerTypes
    }

    enum CodingKeys: String, CodingKey { case platemap, agonists, markerTypes = "marker_types" }
}

/// What a run did (rank 0's view; other ranks get an empty summary).
public struct PrepareSummary: Codable, Sendable {
    public var imagesFound = 0
    public var imagesWritten = 0
    public var imagesFailed = 0
    public var imagesAlreadyPresent = 0
    public var patchesWritten = 0
    /// Whole file after the run, per split name.
    public var splits: [String: SplitCounts] = [:]
    public var labelling = LabelStats()
    /// One line per bad input (file: problem).
    public var problems: [String] = []
    public var seconds = 0.0
    public var splitBy: SplitBy = .image
    public var seed: UInt64 = 0
    public var labelRadius = 0.0
    /// Class names in label order.
    public var classNames = PatchesSchema.classNames
}

/// The configuration recorded in the file's `config` attribute.
struct PrepareRecord: Codable {
    var mode: PatchMode
    var splitBy: SplitBy
    var seed: UInt64
    var valFraction: Double
    var testFraction: Double
    var fold: CrossValidationFold?
    var patch: PatchConfig
    var segmentation: SegmentationConfig
    var classMap: ClassMap
    var wellPatterns: [String]
    var fieldGrid: FieldGrid
    var images: String
    var annotations: String
    var toolVersion: String
    var date: String
    /// nil (absent from the JSON) unless the run labelled by plate map.
    var labelBy: AgonistLabels?

    enum CodingKeys: String, CodingKey {
        case mode, splitBy = "split_by", seed, valFraction = "val_fraction", testFraction = "test_fraction", fold
        case labelBy = "label_by"
        case patch, segmentation, classMap = "class_map", wellPatterns = "well_patterns", fieldGrid = "field_grid"
        case images, annotations
        case toolVersion = "tool_version", date
    }
}

/// `netosis prepare`: segment annotated images, cut labelled patches, split without leakage,
/// stream them into patches.h5 (docs/prepare.md).
public enum PrepareJob {
    /// Runs on every rank of `world` (nil = this process alone). Images are processed in rounds of
    /// `world.size`, one per rank; rank 0 gathers each round and appends it in image-name order, so
    /// the file is identical for any rank count. Bad inputs are reported through `warn` and skipped.
    public static func run(_ options: PrepareOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in })
    throws -> PrepareSummary {
        let start = Date()
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let isRoot = rank == 0
        var summary = PrepareSummary()

        // Every rank scans (cheap, deterministic) so all agree on the work list without messages.
        let scan = try PrepareScan.run(images: options.imagesDirectory, annotations: options.annotationsDirectory,
                                       wells: options.wells)
        if isRoot {
            for problem in scan.problems { warn(problem) }
            if !scan.unannotated.isEmpty {
                let examples = scan.unannotated.prefix(3).joined(separator: ", ")
                log("note: \(scan.unannotated.count) image(s) have no annotation file and are skipped (e.g. \(examples))")
            }
        }
        summary.problems = scan.problems
        summary.imagesFound = scan.pairs.count
        guard !scan.pairs.isEmpty else {
            throw PrepareError(path: options.annotationsDirectory,
                               problem: "no annotation file matches an image in \(options.imagesDirectory)")
        }

        // Settings: explicit options, else the existing file's (append), else defaults.
        let exists = FileManager.default.fileExists(atPath: options.output)
        // The output is checked before any image is read: never an input, never another kind of
        // file, in a folder that can be written (rank 0 writes; its error aborts every rank).
        var output: OutputFile?
        if isRoot {
            let inputs = scan.pairs.flatMap { $0.source.paths + [$0.annotationPath] }
            output = try OutputFile.check(options.output, kind: "patches file (\(PatchesSchema.format.name))", inputs: inputs,
                                          overwrite: true) { PatchesSchema.format.isFormat(of: $0) }
        }
        if exists && !options.append && !options.overwrite {
            throw PrepareError(path: options.output, problem: "already exists; pass --append to add images or --overwrite to replace it")
        }
        // Only rank 0 opens the file (HDF5 locks it); the others get what it found.
        struct Found: Codable { var stored: StoredPatches? }
        var found = Found(stored: nil)
        if isRoot && exists && options.append { found.stored = try PatchesWriter.inspect(path: options.output) }
        if let world, size > 1 { found = try world.broadcast(isRoot ? found : nil, root: 0) }
        let stored = found.stored
        func conflict(_ what: String, _ given: String, _ have: String) -> PrepareError {
            PrepareError(path: options.output, problem: "was written with \(what) \(have); appending with \(given) would mix rules (omit the flag or write a new file)")
        }
        if let stored {
            if let s = options.splitBy, s != stored.splitBy { throw conflict("--split-by", s.rawValue, stored.splitBy.rawValue) }
            if let m = options.mode, m != stored.mode { throw conflict("--mode", m.rawValue, stored.mode.rawValue) }
            if let r = options.labelRadius, r != stored.labelRadius { throw conflict("label radius", "\(r)", "\(stored.labelRadius)") }
            if options.patch.patchSize != stored.patchSize {
                throw conflict("patch size", "\(options.patch.patchSize)", "\(stored.patchSize)")
            }
            if let v = options.valFraction, v != stored.valFraction { throw conflict("--val-fraction", "\(v)", "\(stored.valFraction)") }
            if let t = options.testFraction, t != stored.testFraction { throw conflict("--test-fraction", "\(t)", "\(stored.testFraction)") }
        }
        let valFraction = options.valFraction ?? stored?.valFraction ?? 0.1
        let testFraction = options.fold.map { 1 / Double($0.count) } ?? options.testFraction ?? stored?.testFraction ?? 0.2
        guard (0...1).contains(valFraction), (0...1).contains(testFraction), valFraction + testFraction < 1 else {
            throw PrepareError(path: options.output, problem: "val fraction \(valFraction) + test fraction \(testFraction) must be < 1, each in 0...1")
        }
        if let fold = options.fold {
            guard fold.count >= 2, (0..<fold.count).contains(fold.index) else {
                throw PrepareError(path: options.output, problem: "fold \(fold.index) of \(fold.count) does not exist (folds ≥ 2, fold 0…folds-1)")
            }
            if stored != nil { throw PrepareError(path: options.output, problem: "cross-validation folds cannot be appended to an existing file (write one file per fold)") }
        }
        let splitBy = options.splitBy ?? stored?.splitBy ?? .image
        let seed = options.seed ?? stored?.seed ?? 0
        let mode = options.mode ?? stored?.mode ?? .segment
        var patch = try options.patch.validated(source: options.output)
        patch.labelRadius = options.labelRadius ?? stored?.labelRadius ?? options.segmentation.labelRadius
        guard patch.labelRadius > 0 else { throw PrepareError(path: options.output, problem: "label radius must be > 0") }
        summary.splitBy = splitBy; summary.seed = seed; summary.labelRadius = patch.labelRadius

        // Images already in the file are skipped; new groups are placed, old ones keep their split.
        let present = Set(stored?.images.map(\.name) ?? [])
        let work = scan.pairs.filter { !present.contains($0.stem) }
        summary.imagesAlreadyPresent = scan.pairs.count - work.count
        if isRoot && summary.imagesAlreadyPresent > 0 {
            log("note: \(summary.imagesAlreadyPresent) image(s) are already in \(options.output) and are skipped")
        }
        let splits = SplitPlanner.assign(keys: work.map { $0.identity.splitKey(splitBy) }, seed: seed,
                                         valFraction: valFraction, testFraction: testFraction,
                                         existing: stored?.groupSplits() ?? [:], fold: options.fold)
        if isRoot {
            let action = stored != nil ? "appending to" : "writing"
            let folds = options.fold.map { ", fold \($0.index) of \($0.count) as test" } ?? ""
            log("prepare: \(work.count) annotated image(s), mode \(mode.rawValue), split by \(splitBy.rawValue)\(folds), seed \(seed), label radius \(patch.labelRadius) px, patch \(patch.patchSize)×\(patch.patchSize); \(action) \(options.output)")
        }

        let classOf = options.classMap.nucleusClass(forType:)
        let classNames = options.labelBy?.agonists ?? PatchesSchema.classNames
        summary.classNames = classNames
        let relabel = try options.labelBy.map { try AgonistRelabel($0, output: options.output) }
        if let labelBy = options.labelBy {
            if stored != nil { throw PrepareError(path: options.output, problem: "--label-by writes a new file; it cannot be appended to (its classes are \(labelBy.agonists))") }
            if isRoot {
                log("prepare: labels by plate map \(labelBy.platemap): marker type(s) \(labelBy.markerTypes.map(String.init).joined(separator: ", ")) in wells of "
                    + labelBy.agonists.enumerated().map { "\($1) (class \($0))" }.joined(separator: ", ") + "; every other patch is left out")
            }
        }
        let segmenter = Segmenter(config: options.segmentation)
        let memory = ImageMemory(try MemoryBudget.current(world: world))
        let record = PrepareRecord(mode: mode, splitBy: splitBy, seed: seed, valFraction: valFraction,
                                   testFraction: testFraction, fold: options.fold, patch: patch, segmentation: options.segmentation,
                                   classMap: options.classMap, wellPatterns: options.wells.naming.patterns.map(\.pattern),
                                   fieldGrid: options.wells.grid, images: options.imagesDirectory,
                                   annotations: options.annotationsDirectory, toolVersion: ToolVersion.string,
                                   date: FileHeader.now(), labelBy: options.labelBy)

        // Rank 0 appends one image's patches to the file (on the write-behind thread).
        var done = 0
        func write(_ outcome: ImageOutcome, to writer: PatchesWriter) throws {
            done += 1
            let h = outcome.header
            for w in h.warnings { warn(w) }
            defer { progress(done, work.count) }
            try FaultPoint.pass("prepare-image")
            if let error = h.error {
                warn(error); summary.problems.append(error); summary.imagesFailed += 1
                if options.verbose { log("[\(done)/\(work.count)] \(h.identity.name): failed, skipped") }
                return
            }
            summary.problems.append(contentsOf: h.warnings)
            let split = splits[h.identity.splitKey(splitBy)]!
            try writer.append(outcome.row, patches: outcome.patches, labels: outcome.labels, centers: outcome.centers,
                              split: split)
            if done % 16 == 0 { try writer.flush() }
            summary.imagesWritten += 1
            summary.patchesWritten += outcome.labels.count
            summary.labelling.add(h.stats)
            guard options.verbose else { return }
            var perClass = [Int](repeating: 0, count: classNames.count)
            for l in outcome.labels { perClass[Int(l)] += 1 }
            let classText = zip(classNames, perClass).map { "\($0) \($1)" }.joined(separator: ", ")
            let matching = mode == .segment
                ? "\(h.objects) objects, \(h.stats.matchedMarkers)/\(h.stats.markers - h.stats.ignoredMarkers - h.stats.outsideMarkers) markers matched, "
                : ""
            log(String(format: "[%d/%d] %@ → %@: %@%d patches (%@), %.2f s", done, work.count, h.identity.name,
                       split.description, matching, outcome.labels.count, classText, h.seconds))
        }

        // The loop every rank runs; `writer` is non-nil on rank 0 only. Rank 0 compresses and
        // writes round k on a background thread while it segments round k+1 (order unchanged).
        func processAll(_ writer: PatchesWriter?) throws {
            let behind = WriteBehind(depth: 2)
            do {
                for roundStart in stride(from: 0, to: work.count, by: size) {
                    let mine = roundStart + rank
                    let outcome: ImageOutcome? = mine < work.count
                        ? process(work[mine], mode: mode, patch: patch, seed: seed, segmenter: segmenter, classOf: classOf,
                                  memory: memory, relabel: relabel)
                        : nil
                    var outcomes: [ImageOutcome] = []
                    if let world, size > 1 {
                        let bytes = try outcome?.encoded() ?? []
                        if let gathered = try world.gather(bytes: bytes, root: 0) {
                            outcomes = try gathered.filter { !$0.isEmpty }.map { try ImageOutcome.decode($0, patchSize: patch.patchSize) }
                        }
                    } else if let outcome {
                        outcomes = [outcome]
                    }
                    guard let writer else { continue }
                    try behind.submit { for outcome in outcomes { try write(outcome, to: writer) } }
                }
                try behind.drain()
            } catch {
                _ = try? behind.drain()  // never leave a write running on a file about to be removed
                throw error
            }
        }

        // The file's `config` stays that of the run that created it; `runs` records every run.
        let configJSON = String(decoding: try jsonEncoder().encode(record), as: UTF8.self)
        let header = FileHeader(PatchesSchema.format, config: stored?.config ?? configJSON,
                                created: stored?.created ?? record.date)
        let settings = PatchesSettings(splitBy: splitBy, seed: seed, labelRadius: patch.labelRadius, mode: mode,
                                       valFraction: valFraction, testFraction: testFraction)
        let runs = try runsJSON(appending: configJSON, to: stored, path: options.output)
        func finish(_ writer: PatchesWriter) throws {
            try writer.writeAttributes(header: header, settings: settings, runs: runs)
            for (split, counts) in try writer.summary() { summary.splits[split.description] = counts }
            try writer.flush()
        }

        if !isRoot {
            try processAll(nil)
        } else if stored != nil {
            // Appending works on a copy that replaces the file only when complete: an interrupted
            // or failed append leaves the earlier file exactly as it was (costs one copy of it).
            try output!.write { temporary in
                do { try FileManager.default.copyItem(atPath: options.output, toPath: temporary) }
                catch { throw PrepareError(path: options.output, problem: "cannot copy it to append: \(OutputFile.reason(error))") }
                var writer: PatchesWriter? = try PatchesWriter.openForAppend(path: temporary, patchSize: patch.patchSize)
                guard writer!.classNames == classNames else {
                    throw PrepareError(path: options.output, problem: "holds classes \(writer!.classNames), not \(classNames); appending would mix labels (write a new file)")
                }
                try processAll(writer)
                try finish(writer!)
                try writer!.close()
                writer = nil
            }
        } else {
            // A new file appears only when complete (temporary → fsync → rename).
            try output!.write { temporary in
                var writer: PatchesWriter? = try PatchesWriter.create(path: temporary, patchSize: patch.patchSize, classNames: classNames)
                try writer!.writeAttributes(header: header, settings: settings, runs: runs)
                try processAll(writer)
                try finish(writer!)
                try writer!.close()
                writer = nil
            }
        }
        summary.seconds = Date().timeIntervalSince(start)
        if isRoot {
            for line in report(summary) { log(line) }
        }
        return summary
    }

    /// Segments (or, in point mode, reads markers of) one image and cuts its labelled patches.
    static func process(_ item: AnnotatedImage, mode: PatchMode, patch: PatchConfig, seed: UInt64,
                        segmenter: Segmenter, classOf: (Int) -> NucleusClass?, memory: ImageMemory? = nil,
                        relabel: AgonistRelabel? = nil) -> ImageOutcome {
        let start = Date()
        var outcome = ImageOutcome(header: .init(identity: item.identity, imagePath: item.imagePath,
                                                 annotationPath: item.annotationPath))
        let image: GrayImage
        do {
            // Single files are checked against memory from their headers (a well from fields is
            // bounded by its field grid).
            if case .file(let path) = item.source, mode == .segment { try memory?.check(path) }
            image = try item.source.load()
        } catch {
            outcome.header.error = InputFiles.describe(error, path: item.imagePath)
            return outcome
        }
        outcome.header.width = image.width; outcome.header.height = image.height
        (outcome.header.mean, outcome.header.std) = image.statistics
        let outside = item.markers.filter { !($0.x >= 0 && $0.y >= 0 && $0.x < Double(image.width) && $0.y < Double(image.height)) }
        if let first = outside.first {
            outcome.header.warnings.append("\(item.annotationPath): \(outside.count) of \(item.markers.count) markers lie outside the \(image.width)×\(image.height) image \(URL(fileURLWithPath: item.imagePath).lastPathComponent) (first at x \(first.x), y \(first.y)); ignored")
        }
        if item.markers.isEmpty {
            outcome.header.warnings.append(mode == .segment && patch.unmatched == .other
                ? "\(item.annotationPath): has no markers; every object in \(item.stem) becomes class 0 \"other\" (--unmatched drop leaves them out)"
                : "\(item.annotationPath): has no markers")
        }
        var sites: [PatchSite]
        switch mode {
        case .segment:
            let segmentation = segmenter.segment(image)
            let result = PatchSites.segmentMode(segmentation, markers: item.markers, config: patch, classOf: classOf)
            sites = result.sites
            outcome.header.objects = segmentation.nuclei.count
            outcome.header.stats = result.assignment.stats
        case .point:
            let result = PatchSites.pointMode(markers: item.markers, width: image.width, height: image.height,
                                              config: patch, seed: seed, imageName: item.stem, classOf: classOf)
            sites = result.sites
            var stats = LabelStats()
            stats.markers = item.markers.count
            stats.outsideMarkers = result.outsideMarkers
            stats.matchedMarkers = result.sites.filter { $0.markerIndex != nil }.count
            stats.ignoredMarkers = item.markers.count - stats.outsideMarkers - stats.matchedMarkers
            outcome.header.stats = stats
        }
        var labels = sites.map { Int8($0.label.rawValue) }
        if let relabel {
            let (kept, warning) = relabel.labels(sites, markers: item.markers, identity: item.identity)
            if let warning { outcome.header.warnings.append(warning) }
            sites = kept.map { sites[$0.site] }
            labels = kept.map(\.label)
        }
        let area = patch.patchSize * patch.patchSize
        do { try memory?.checkPatches(sites.count, side: patch.patchSize, path: item.imagePath) } catch {
            outcome.header.error = "\(error)"
            return outcome
        }
        outcome.patches = [UInt16](unsafeUninitializedCapacity: sites.count * area) { buffer, count in
            for (i, site) in sites.enumerated() {
                PatchExtractor.cut(image, centerX: site.x, centerY: site.y, size: patch.patchSize,
                                   into: UnsafeMutableBufferPointer(rebasing: buffer[(i * area)..<((i + 1) * area)]))
            }
            count = sites.count * area
        }
        outcome.labels = labels
        outcome.centers = sites.flatMap { [Float($0.x), Float($0.y)] }
        outcome.header.seconds = Date().timeIntervalSince(start)
        return outcome
    }

    /// The closing table: images and patches per class in each split, labelling and throughput.
    public static func report(_ s: PrepareSummary) -> [String] {
        var lines: [String] = []
        let names = s.classNames
        lines.append("split  images  patches  " + names.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        for split in PatchSplit.allCases {
            let c = s.splits[split.description] ?? SplitCounts(classes: names.count)
            lines.append(split.description.padding(toLength: 7, withPad: " ", startingAt: 0)
                         + String(c.images).leftPad(6) + String(c.patches).leftPad(9) + "  "
                         + c.classes.map { String($0).padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        }
        let empty = PatchSplit.allCases.filter { $0 != .train && (s.splits[$0.description]?.patches ?? 0) == 0 }
        if !empty.isEmpty && (s.splits[PatchSplit.train.description]?.patches ?? 0) > 0 {
            lines.append("note: \(empty.map(\.description).joined(separator: " and ")) hold no patches: splits take whole "
                         + "\(s.splitBy.rawValue) groups and there were too few (add images or use a finer --split-by)")
        }
        let l = s.labelling
        let usable = l.markers - l.ignoredMarkers - l.outsideMarkers
        if usable > 0 {
            lines.append(String(format: "markers: %d usable, %.1f%% matched an object within %.1f px; %d objects took ≥ 2 markers; %d outside the image, %d of ignored types",
                                usable, 100 * Double(l.matchedMarkers) / Double(usable), s.labelRadius,
                                l.objectsWithSeveralMarkers, l.outsideMarkers, l.ignoredMarkers))
            lines.append("objects without a marker: \(l.unmatchedObjects) (\(l.ambiguousObjects) ambiguous: within the radius of a marker that labelled another object)")
        }
        let rate = s.seconds > 0 ? Double(s.imagesWritten) / s.seconds : 0
        lines.append(String(format: "wrote %d image(s), %d patches in %.1f s (%.2f images/s, %.0f patches/s); %d failed, %d already present",
                            s.imagesWritten, s.patchesWritten, s.seconds, rate,
                            s.seconds > 0 ? Double(s.patchesWritten) / s.seconds : 0, s.imagesFailed, s.imagesAlreadyPresent))
        return lines
    }

    /// The `runs` attribute: a JSON list of every run's settings, this one last. A file from before
    /// runs were recorded starts the list with its creating run's `config`.
    static func runsJSON(appending run: String, to stored: StoredPatches?, path: String) throws -> String {
        guard let stored else { return "[\(run)]" }
        if stored.runs.isEmpty { return stored.config.isEmpty ? "[\(run)]" : "[\(stored.config),\(run)]" }
        // Appended as text, so earlier runs stay byte for byte as they were written.
        guard let items = try? JSONSerialization.jsonObject(with: Data(stored.runs.utf8)), items is [Any],
              stored.runs.hasSuffix("]") else {
            throw PrepareError(path: path, problem: "attribute 'runs' is not a JSON list; prepare a new file")
        }
        let earlier = stored.runs.dropLast().trimmingCharacters(in: .whitespaces)
        return earlier == "[" ? "[\(run)]" : earlier + ",\(run)]"
    }

    static func jsonEncoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}

/// Runs writes on one background thread, in submission order, with at most `depth` waiting
/// (bounding memory); the first error stops later writes and is rethrown by `submit`/`drain`.
final class WriteBehind {
    private let queue = DispatchQueue(label: "netosis.prepare.write-behind")
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var failure: Error?

    init(depth: Int) { slots = DispatchSemaphore(value: depth) }

    func submit(_ work: @escaping () throws -> Void) throws {
        try rethrowFailure()
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            if lock.withLock({ failure != nil }) { return }
            do { try work() } catch { lock.withLock { failure = error } }
        }
    }

    /// Waits for every submitted write.
    func drain() throws {
        queue.sync {}
        try rethrowFailure()
    }

    private func rethrowFailure() throws {
        if let error = lock.withLock({ failure }) { throw error }
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
