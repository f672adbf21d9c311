import Foundation
import Storage

/// OUT/manifest.json: what made a synthetic set and every file `netosis synth` wrote in it
/// (docs/file-formats.md "Synthetic plate set"). It is what lets a rerun resume an interrupted set
/// or replace it while never touching a file synth did not write (rules: docs/synthetic.md).
public struct SynthManifest: Codable, Sendable {
    /// A completely written file: path relative to OUT, size in bytes, SHA-256 (as `sha256sum`).
    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int
        public var sha256: String
    }

    public static let fileName = "manifest.json"
    public static let format = "netosis.synth-manifest"
    public static let formatVersion = 1

    public var format = SynthManifest.format
    public var formatVersion = SynthManifest.formatVersion
    public var toolVersion = ToolVersion.string
    public var options: SynthSet.Options
    /// True once every file of the set is listed.
    public var complete = false
    /// Files listed only after they are in place (renamed), sorted by path.
    public var files: [Entry] = []
    /// Paths being written or removed: a file found there after a crash is synth's, unverified,
    /// and the next run removes it.
    public var pending: [String] = []

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", toolVersion = "tool_version", options, complete, files, pending
    }

    /// Same options and same tool version: the bytes an uninterrupted run would write.
    func makesSameSet(as other: SynthManifest) -> Bool {
        toolVersion == other.toolVersion && SynthManifest.encode(options) == SynthManifest.encode(other.options)
    }

    static func encode<T: Encodable>(_ value: T) -> Data? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try? encoder.encode(value)
    }

    func save(in out: String) throws {
        var sorted = self
        sorted.files.sort { $0.path < $1.path }
        guard let json = SynthManifest.encode(sorted) else { throw ImageError(path: "\(out)/\(SynthManifest.fileName)", problem: "cannot encode") }
        try AtomicFile.write(json + Data("\n".utf8), to: "\(out)/\(SynthManifest.fileName)")
    }

    static func load(from out: String) throws -> SynthManifest? {
        let path = "\(out)/\(fileName)"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        struct Header: Decodable { var format: String?; var format_version: Int? }
        let header = try? JSONDecoder().decode(Header.self, from: data)
        guard header?.format == format else {
            throw ImageError(path: path, problem: "is not a netosis synth manifest; synth cannot tell which files here are its own (choose another folder)")
        }
        guard let version = header?.format_version, version <= formatVersion else {
            throw ImageError(path: path, problem: "was written by a newer netosis (format_version \(header?.format_version ?? -1)); use that version or choose another folder")
        }
        do { return try JSONDecoder().decode(SynthManifest.self, from: data) } catch {
            throw ImageError(path: path, problem: "cannot be read (\(error.localizedDescription)); synth cannot tell which files here are its own (choose another folder)")
        }
    }

    /// The entry of a file just written (its size and checksum as they are now).
    static func entry(_ out: String, _ path: String) throws -> Entry {
        guard let size = fileSize("\(out)/\(path)"), let sha = SHA256.ofFile("\(out)/\(path)") else {
            throw ImageError(path: "\(out)/\(path)", problem: "cannot be read back after writing")
        }
        return Entry(path: path, size: size, sha256: sha)
    }

    static func fileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }
}

/// One run of `netosis synth` into OUT, held by the process that keeps the manifest (rank 0).
/// `open` applies the rerun rules; then `begin` (before writing files), `record` (after they are
/// in place) and `writeTables` keep the manifest true at every moment.
public struct SynthRun: Sendable {
    public let out: String
    public let options: SynthSet.Options
    public let plan: [PlateMapRow]
    /// Wells (plan indices) whose files are already complete and verified: not written again.
    public let completeWells: Set<Int>
    /// True if the tables (and synth.json) are complete too: nothing to do.
    public var isComplete: Bool { manifest.complete }
    /// One line per thing the user should know (an earlier set replaced, files of theirs left alone).
    public private(set) var notes: [String] = []
    private var manifest: SynthManifest

    static let tables = ["platemap.csv", "truth_nuclei.csv", "truth_wells.csv", "synth.json"]

    /// Files written once every well is done: the tables, and in a results-only set one results file per plate.
    public static func tablePaths(_ options: SynthSet.Options) -> [String] {
        options.isResultsOnly ? options.platesWithWells.map { "results/\($0).h5" } + tables : tables
    }

    /// Files of well `index`, relative to OUT.
    public func wellPaths(_ index: Int) -> [String] { SynthRun.wellPaths(plan[index], options) }

    /// A well's image(s) and Cell Counter XML; none for a lost well or in a results-only set.
    public static func wellPaths(_ row: PlateMapRow, _ options: SynthSet.Options) -> [String] {
        if options.isResultsOnly || options.isMissing(row) { return [] }
        return options.imageFiles(row.image).map { "images/\($0)" } + ["annotations/CellCounter_\(row.image).xml"]
    }

    static func allPaths(_ options: SynthSet.Options) -> [String] {
        options.plan.flatMap { wellPaths($0, options) } + tablePaths(options)
    }

    /// Checks OUT against the rerun rules, removes what a previous synth run left that this run
    /// replaces (listed files, pending ones, temporaries of dead processes — nothing else), and
    /// writes the manifest of this run before any well is written.
    public static func open(_ out: String, options: SynthSet.Options, overwrite: Bool) throws -> SynthRun {
        let fm = FileManager.default
        func refuse(_ problem: String, _ path: String = out) -> ImageError { ImageError(path: path, problem: problem) }
        try checkFolder(out)
        var fresh = SynthManifest(options: options)
        let present = existingFiles(out)
        var ours: Set<String> = [SynthManifest.fileName]   // present files synth made
        var keep: [SynthManifest.Entry] = []
        var remove: [String] = []
        var holdsSet = true

        if let old = try SynthManifest.load(from: out) {
            let same = old.makesSameSet(as: fresh)
            if !same && !overwrite {
                let made = old.toolVersion == fresh.toolVersion
                    ? "with other options (\(old.options.summary); this run: \(options.summary))"
                    : "by another netosis version (\(old.toolVersion); this is \(fresh.toolVersion))"
                throw refuse("holds a synthetic set made \(made); pass --overwrite to replace it (only the files its manifest.json lists are removed) or choose another folder")
            }
            for entry in old.files {
                guard let size = SynthManifest.fileSize("\(out)/\(entry.path)") else { continue }  // gone: written again
                guard size == entry.size, SHA256.ofFile("\(out)/\(entry.path)") == entry.sha256 else {
                    throw refuse("was changed since netosis synth wrote it (size or SHA-256 differs from manifest.json); synth never replaces a file it did not write — move it away or choose another folder", "\(out)/\(entry.path)")
                }
                ours.insert(entry.path)
                if same { keep.append(entry) } else { remove.append(entry.path) }
            }
            for path in old.pending where present.contains(path) && !ours.contains(path) {
                ours.insert(path)
                remove.append(path)
            }
        } else if present.contains("synth.json") {
            // A set of the version before manifests: its synth.json (written last) names every file it made.
            guard overwrite else {
                throw refuse("holds a synthetic set written by an older netosis (synth.json, no manifest.json) that cannot be resumed; pass --overwrite to replace it (only the files its synth.json names are removed) or choose another folder")
            }
            struct OldSet: Decodable { var options: SynthSet.Options }
            guard let data = fm.contents(atPath: "\(out)/synth.json"),
                  let oldOptions = try? JSONDecoder().decode(OldSet.self, from: data).options else {
                throw refuse("cannot be read as a netosis synth.json, so synth cannot tell which files here are its own; choose another folder", "\(out)/synth.json")
            }
            for path in allPaths(oldOptions) where present.contains(path) {
                ours.insert(path)
                remove.append(path)
            }
        } else {
            holdsSet = false
        }

        let targets = Set(allPaths(options)).union(ours)
        var stale: [String] = []
        let foreign = present.filter { path in
            guard !ours.contains(path) else { return false }
            guard let target = temporaryTarget(path), targets.contains(target.path) else { return true }
            if target.deadOnThisHost { stale.append(path) }
            return false
        }.sorted()
        if let first = foreign.first, !holdsSet {
            throw refuse("is not empty and holds no synthetic set (e.g. \(first)); synth writes only into a new or empty folder or one of its own sets")
        }
        for path in allPaths(options) where !ours.contains(path) && fm.fileExists(atPath: "\(out)/\(path)") {
            throw refuse("was not written by netosis synth (not in manifest.json) and this set would replace it; move it away or choose another folder", "\(out)/\(path)")
        }

        // The manifest of this run is written before anything is removed, listing what is about to go.
        for d in [out] + (options.isResultsOnly ? ["\(out)/results"] : ["\(out)/images", "\(out)/annotations"]) {
            do { try fm.createDirectory(atPath: d, withIntermediateDirectories: true) } catch {
                throw refuse("cannot create the folder (no permission or read-only file system)", d)
            }
        }
        fresh.files = keep
        fresh.pending = remove
        let kept = Set(keep.map(\.path))
        fresh.complete = allPaths(options).allSatisfy { kept.contains($0) }
        try fresh.save(in: out)
        for path in remove + stale { unlink("\(out)/\(path)") }
        if !remove.isEmpty {
            fresh.pending = []
            try fresh.save(in: out)
        }

        let plan = options.plan
        // A well without files of its own (lost, or a results-only set) is complete only with the whole set.
        let complete = Set(plan.indices.filter { i in
            let paths = wellPaths(plan[i], options)
            return paths.isEmpty ? fresh.complete : paths.allSatisfy { kept.contains($0) }
        })
        var run = SynthRun(out: out, options: options, plan: plan, completeWells: complete, manifest: fresh)
        if !remove.isEmpty && keep.isEmpty {
            run.notes.append("\(out): replaced the earlier set (removed the \(remove.count) file\(remove.count == 1 ? "" : "s") it listed)")
        }
        if let first = foreign.first {
            run.notes.append("\(out): left untouched \(foreign.count) file\(foreign.count == 1 ? "" : "s") netosis synth did not write (e.g. \(first))")
        }
        return run
    }

    private init(out: String, options: SynthSet.Options, plan: [PlateMapRow], completeWells: Set<Int>, manifest: SynthManifest) {
        self.out = out; self.options = options; self.plan = plan; self.completeWells = completeWells; self.manifest = manifest
    }

    /// Records `paths` as being written (saved before the first byte of them is).
    public mutating func begin(_ paths: [String]) throws {
        manifest.pending = paths
        try manifest.save(in: out)
    }

    /// Lists files now completely in place (saved with the next `begin` or `writeTables`).
    public mutating func record(_ entries: [SynthManifest.Entry]) {
        let paths = Set(entries.map(\.path))
        manifest.files = manifest.files.filter { !paths.contains($0.path) } + entries
        manifest.pending.removeAll { paths.contains($0) }
    }

    /// Number of wells whose files are all listed.
    public var listedWells: Int {
        let listed = Set(manifest.files.map(\.path))
        return plan.indices.filter { !wellPaths($0).isEmpty && wellPaths($0).allSatisfy(listed.contains) }.count
    }

    /// The entries of files this process has just written (read back: size and SHA-256).
    public static func entries(_ out: String, _ paths: [String]) throws -> [SynthManifest.Entry] {
        try paths.map { try SynthManifest.entry(out, $0) }
    }

    /// Writes the tables and synth.json (rows in plan order), and whatever else `extra` writes into
    /// OUT (a results-only set's results files), and marks the set complete.
    public mutating func writeTables(nuclei: [[String]], wells: [String], extra: (_ out: String) throws -> Void = { _ in }) throws {
        let paths = SynthRun.tablePaths(options)
        try begin(paths)
        try extra(out)
        try SynthSet.writeTables(to: out, options: options, plan: plan, nuclei: nuclei, wells: wells)
        record(try SynthRun.entries(out, paths))
        manifest.complete = true
        try manifest.save(in: out)
    }

    /// OUT must be a folder or creatable as one.
    static func checkFolder(_ out: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: out, isDirectory: &isDir) {
            guard isDir.boolValue else { throw ImageError(path: out, problem: "exists and is not a folder") }
            return
        }
        // Find the nearest existing ancestor to say what is wrong with it.
        var ancestor = URL(fileURLWithPath: out).deletingLastPathComponent().path
        while !ancestor.isEmpty && ancestor != "/" && !fm.fileExists(atPath: ancestor) {
            ancestor = URL(fileURLWithPath: ancestor).deletingLastPathComponent().path
        }
        if !ancestor.isEmpty && fm.fileExists(atPath: ancestor, isDirectory: &isDir) && !isDir.boolValue {
            throw ImageError(path: out, problem: "cannot be created: \(ancestor) is a file, not a folder")
        }
    }

    /// Every non-folder entry under OUT, relative to it.
    static func existingFiles(_ out: String) -> Set<String> {
        guard let walk = FileManager.default.enumerator(atPath: out) else { return [] }
        var files: Set<String> = []
        for case let path as String in walk {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(out)/\(path)", isDirectory: &isDir), isDir.boolValue { continue }
            files.insert(path)
        }
        return files
    }

    /// For a temporary (`TemporaryFiles`) at `path`, relative to the set: the path of its target,
    /// relative too, and whether its writer was a process of this host that no longer exists.
    static func temporaryTarget(_ path: String) -> (path: String, deadOnThisHost: Bool)? {
        let slash = path.lastIndex(of: "/")
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let writer = TemporaryFiles.writer(ofTemporary: name) else { return nil }
        return (slash.map { String(path[..<$0]) + "/" + writer.target } ?? writer.target, writer.deadOnThisHost)
    }
}

extension SynthSet.Options {
    /// "seed 5, 1 plate × 3 wells, 336×256 px, stitched" (what a manifest says in a refusal).
    var summary: String {
        "seed \(seed), \(plates) plate\(plates == 1 ? "" : "s") × \(wells) wells, \(width)×\(height) px, \(layout.rawValue)"
            + (layout == .fields ? " \(fieldOrder.rawValue)" : "")
            + (cohort.map { ", cohort \($0.controls),\($0.sickleCell) × \($0.replicates) replicates, donor SD \($0.donorSD)" } ?? "")
            + (missingWells.map { ", \($0) of wells lost" } ?? "") + (isResultsOnly ? ", results only" : "")
    }
}
