import Cluster
import Determinism
import Foundation
import Imaging
import Storage

/// `netosis tiles`: whole RGB images cut into tiles with each image's class and split, into a
/// patches file with a channel axis (format 4, `task: image-classification`): the celldeath
/// method's `celldeath slice`, with splits that never put tiles of one image on both sides.
public enum TilesJob {
    public struct Options: Sendable {
        public var input: String
        public var out: String
        /// Tiles per image: 1, 2, 4, 6 or 8 (`TileLayout`).
        public var tiles = 4
        public var labeling = TileLabeling()
        /// Keep only images matching every selection.
        public var only: [FieldSelection] = []
        /// Images matching this go to the test split (e.g. one whole experiment).
        public var test: FieldSelection?
        /// The unit of splitting: `image`, or a field (`experiment`, `well`, …): all images of a unit share a split.
        public var splitBy = "image"
        public var valFraction = 0.3
        /// Without `test`: the fraction of units drawn for the test split.
        public var testFraction = 0.0
        public var seed: UInt64 = 42
        public var overwrite = false
        public init(input: String, out: String) { self.input = input; self.out = out }
    }

    /// One image of the plan.
    struct Planned: Codable {
        var path: String
        var name: String
        var fields: [String: String]
        var label: Int8
        var split: UInt8
    }

    /// What a rank hands rank 0 for one image.
    struct Outcome: Codable {
        var index: Int
        var width = 0, height = 0
        var mean: Float = .nan, std: Float = .nan
        var centers: [Float] = []
        var error: String?
    }

    public struct Summary: Equatable, Sendable {
        public var images = 0, failed = 0, tiles = 0
        public var tileHeight = 0, tileWidth = 0
        public var classes: [String] = []
        /// Images per split (train, val, test) and class.
        public var perSplit: [[Int]] = []
    }

    public static let channelNames = ["red", "green", "blue"]

    @discardableResult
    public static func run(_ options: Options, world: Communicator? = nil, log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
        throws -> Summary {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        // Rank 0 plans (names, labels, splits, tile size); every rank then reads its share.
        var plan: Plan?
        var failure: String?
        if rank == 0 {
            do { plan = try Plan.make(options, warn: warn) } catch { failure = InputFiles.describe(error, path: options.input) }
        }
        if let world {
            let shared: PlanMessage? = rank == 0 ? PlanMessage(plan: plan, failure: failure) : nil
            let received = try world.broadcast(shared)
            plan = received.plan; failure = received.failure
        }
        if let failure { throw TilesError(failure) }
        guard let plan else { return Summary() }

        let output: OutputFile? = rank == 0 ? try OutputFile.check(
            options.out, kind: "patches file (\(PatchesSchema.format.name))", inputs: plan.images.map(\.path),
            overwrite: options.overwrite) { PatchesSchema.format.isFormat(of: $0) } : nil
        if let world { try world.barrier() }

        let layout = plan.layout
        let tileSize = plan.tileHeight * plan.tileWidth * 3
        func process(_ k: Int) -> (Outcome, [UInt16]) {
            let item = plan.images[k]
            var outcome = Outcome(index: k)
            do {
                let image = try RGBImage.read(item.path)
                outcome.width = image.width; outcome.height = image.height
                let size = layout.tileSize(width: image.width, height: image.height)
                guard TileLayout(count: options.tiles, width: image.width, height: image.height) == layout,
                      size == (plan.tileHeight, plan.tileWidth) else {
                    throw ImageError(path: item.path, problem: "is \(image.width)×\(image.height), giving \(size.height)×\(size.width) tiles; "
                                     + "the set's tiles are \(plan.tileHeight)×\(plan.tileWidth) (every image must have one size)")
                }
                let (pixels, centers) = layout.cut(image)
                var sum = 0.0, squares = 0.0
                for v in image.pixels { let x = Double(v); sum += x; squares += x * x }
                let n = Double(image.pixels.count)
                outcome.mean = Float(sum / n); outcome.std = Float(max(0, squares / n - (sum / n) * (sum / n)).squareRoot())
                outcome.centers = centers
                return (outcome, pixels)
            } catch {
                outcome.error = InputFiles.describe(error, path: item.path)
                return (outcome, [])
            }
        }

        var summary = Summary(images: plan.images.count, tileHeight: plan.tileHeight, tileWidth: plan.tileWidth,
                              classes: plan.classes,
                              perSplit: [[Int]](repeating: [Int](repeating: 0, count: plan.classes.count), count: 3))
        let body = { (temporary: String?) throws in
            let writer = try temporary.map {
                try PatchesWriter.create(path: $0, height: plan.tileHeight, width: plan.tileWidth, channelNames: channelNames,
                                         classNames: plan.classes)
            }
            for round in stride(from: 0, to: plan.images.count, by: size) {
                let k = round + rank
                let mine = k < plan.images.count ? process(k) : (Outcome(index: -1), [])
                var outcomes = [mine]
                if let world, size > 1 {
                    let gathered = try world.gather(bytes: encode(mine.0, mine.1))
                    outcomes = try gathered.map { try $0.map(decode) } ?? []
                }
                guard let writer else { continue }
                for (outcome, pixels) in outcomes where outcome.index >= 0 {
                    let item = plan.images[outcome.index]
                    if let error = outcome.error { warn(error); summary.failed += 1; continue }
                    precondition(pixels.count == layout.count * tileSize)
                    let identity = ImageIdentity(name: (item.name as NSString).deletingPathExtension, plate: item.fields["experiment"] ?? "",
                                                 well: item.fields["well"] ?? "", field: layout.name, group: plan.unit(of: item))
                    try writer.append(PatchesImageRow(identity: identity, path: absolute(item.path), width: outcome.width, height: outcome.height,
                                                      objects: layout.count, mean: outcome.mean, std: outcome.std),
                                      patches: pixels, labels: [Int8](repeating: item.label, count: layout.count),
                                      centers: outcome.centers, split: PatchSplit(rawValue: item.split)!, fields: item.fields)
                    summary.tiles += layout.count
                    summary.perSplit[Int(item.split)][Int(item.label)] += 1
                }
            }
            guard let writer else { return }
            guard summary.tiles > 0 else { throw TilesError("\(options.input): no image could be read (\(summary.failed) failed); nothing written") }
            try writer.writeAttributes(header: FileHeader(PatchesSchema.format, config: plan.config),
                                       settings: PatchesSettings(splitBy: .image, seed: options.seed, labelRadius: 0, mode: .point,
                                                                 valFraction: options.valFraction, testFraction: options.testFraction),
                                       runs: "[\(plan.config)]")
            try writer.setAttribute("task", "image-classification")
            try writer.setAttribute("grid", layout.name)
            try writer.setAttribute("split_unit", options.splitBy)
            try writer.setAttribute("fields", String(decoding: try JSONEncoder().encode(plan.fieldNames), as: UTF8.self))
            try writer.close()
        }
        if let output { try output.write { try body($0) } } else { try body(nil) }
        if rank == 0 {
            let names = ["train", "val", "test"]
            let splits = (0..<3).map { s in "\(names[s]) " + zip(plan.classes, summary.perSplit[s]).map { "\($1) \($0)" }.joined(separator: " / ") }
            log("tiles: \(summary.images - summary.failed) image(s) → \(summary.tiles) tiles of \(plan.tileHeight)×\(plan.tileWidth) "
                + "(grid \(layout.name)) in \(options.out); images per split: \(splits.joined(separator: "; "))"
                + (summary.failed > 0 ? "; \(summary.failed) image(s) failed (above)" : ""))
        }
        return summary
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    // MARK: Wire format of one image's outcome: JSON length (4 bytes), JSON, pixels.

    static func encode(_ outcome: Outcome, _ pixels: [UInt16]) throws -> [UInt8] {
        let json = Array(try JSONEncoder().encode(outcome))
        var bytes = withUnsafeBytes(of: UInt32(json.count).littleEndian, Array.init) + json
        pixels.withUnsafeBytes { bytes += $0 }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> (Outcome, [UInt16]) {
        let n = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        let outcome = try JSONDecoder().decode(Outcome.self, from: Data(bytes[4..<(4 + n)]))
        let raw = bytes[(4 + n)...]
        var pixels = [UInt16](repeating: 0, count: raw.count / 2)
        pixels.withUnsafeMutableBytes { $0.copyBytes(from: raw) }
        return (outcome, pixels)
    }
}

/// The run's decisions, made on rank 0 before any pixel is read.
struct PlanMessage: Codable { var plan: Plan?; var failure: String? }

struct Plan: Codable {
    var images: [TilesJob.Planned]
    var classes: [String]
    var fieldNames: [String]
    var splitBy: String
    var rows: Int, columns: Int
    var tileHeight: Int, tileWidth: Int
    var config: String

    var layout: TileLayout { TileLayout(rows: rows, columns: columns) }

    func unit(of item: TilesJob.Planned) -> String { splitBy == "image" ? item.name : item.fields[splitBy] ?? item.name }

    static func make(_ options: TilesJob.Options, warn: (String) -> Void) throws -> Plan {
        if let problem = options.labeling.problem { throw TilesError(problem) }
        guard TileLayout.counts.contains(options.tiles) else {
            throw TilesError("--tiles \(options.tiles): expected 1, 2, 4, 6 or 8 (grids 1×1, 1×2, 2×2, 2×3, 2×4)")
        }
        guard (0..<1).contains(options.valFraction), (0..<1).contains(options.testFraction), options.valFraction + options.testFraction < 1 else {
            throw TilesError("--val-fraction and --test-fraction must be in [0, 1) with a sum below 1")
        }
        if options.test != nil && options.testFraction > 0 { throw TilesError("--test and --test-fraction are alternatives; give one") }
        let paths = try InputFiles.list(options.input, extensions: ["png", "jpg", "jpeg", "tif", "tiff"],
                                        what: "images (.png, .jpg, .tif)", fileAllowed: true)
        let table = try options.labeling.table()
        var found: [(path: String, name: String, fields: [String: String], label: String)] = []
        var seen: [String: String] = [:]
        for path in paths {
            let name = (path as NSString).lastPathComponent
            switch options.labeling.read(name: name, table: table) {
            case let .failure(error): warn(error.description)
            case let .success((fields, label)):
                if let other = seen[name] { warn("\(path): has the name of \(other); skipped (image names must be unique)"); continue }
                seen[name] = path
                guard options.only.allSatisfy({ $0.matches(fields) }) else { continue }
                found.append((path, name, fields, label))
            }
        }
        guard !found.isEmpty else {
            throw TilesError("\(options.input): no image left to tile (\(paths.count) found; see the warnings and --only)")
        }
        let classes = options.labeling.classes ?? Set(found.map(\.label)).sorted()
        if let stray = found.first(where: { !classes.contains($0.label) }) {
            throw TilesError("\(stray.path): class '\(stray.label)' is not one of --classes (\(classes.joined(separator: ",")))")
        }
        for selection in options.only + (options.test.map { [$0] } ?? []) where !found.contains(where: { $0.fields[selection.field] != nil }) {
            throw TilesError("--only/--test \(selection): no image has a field '\(selection.field)' (fields: \(options.labeling.fieldNames.joined(separator: ",")))")
        }
        if options.splitBy != "image", let item = found.first(where: { $0.fields[options.splitBy] == nil }) {
            throw TilesError("--split-by \(options.splitBy): \(item.name) has no such field (fields come from --fields or the CSV's columns)")
        }
        // The first readable image fixes the tile size.
        var reference: RGBImage?
        for item in found {
            do { reference = try RGBImage.read(item.path); break } catch { continue }
        }
        guard let reference, let layout = TileLayout(count: options.tiles, width: reference.width, height: reference.height) else {
            throw TilesError("\(options.input): none of the \(found.count) image(s) can be read as 8-bit RGB")
        }
        let size = layout.tileSize(width: reference.width, height: reference.height)
        guard size.height >= 8, size.width >= 8 else {
            throw TilesError("images of \(reference.width)×\(reference.height) give \(size.height)×\(size.width) tiles; too small")
        }

        let splits = SplitAssignment.make(units: found.map { options.splitBy == "image" ? $0.name : $0.fields[options.splitBy]! },
                                          labels: found.map { classes.firstIndex(of: $0.label)! },
                                          isTest: found.map { options.test?.matches($0.fields) ?? false },
                                          valFraction: options.valFraction, testFraction: options.testFraction, seed: options.seed)
        var config: [String: String] = options.labeling.description
        config["input"] = options.input; config["tiles"] = "\(options.tiles)"; config["split_by"] = options.splitBy
        config["val_fraction"] = "\(options.valFraction)"; config["test_fraction"] = "\(options.testFraction)"
        config["seed"] = "\(options.seed)"; config["classes"] = classes.joined(separator: ",")
        if let test = options.test { config["test"] = test.description }
        if !options.only.isEmpty { config["only"] = options.only.map(\.description).joined(separator: " ") }
        let encoder = JSONEncoder(); encoder.outputFormatting = .sortedKeys
        var fieldNames = options.labeling.fieldNames
        if options.labeling.csv != nil { fieldNames = Set(found.flatMap { $0.fields.keys }).sorted() }
        return Plan(images: zip(found, splits).map { item, split in
                        TilesJob.Planned(path: item.path, name: item.name, fields: item.fields,
                                         label: Int8(classes.firstIndex(of: item.label)!), split: split.rawValue)
                    },
                    classes: classes, fieldNames: fieldNames, splitBy: options.splitBy, rows: layout.rows, columns: layout.columns,
                    tileHeight: size.height, tileWidth: size.width,
                    config: String(decoding: try encoder.encode(config), as: UTF8.self))
    }
}

/// Splits by unit: every image of a unit (an image, an experiment, a well) gets the unit's split.
/// Units marked test go to test; of the others, per class of their first image, a seeded shuffle
/// gives round(fraction × units) to val (and, without marked units, to test), at least one when the
/// fraction is positive and the class has two or more units.
enum SplitAssignment {
    static func make(units: [String], labels: [Int], isTest: [Bool], valFraction: Double, testFraction: Double,
                     seed: UInt64) -> [PatchSplit] {
        var order: [String] = []
        var first: [String: Int] = [:]
        var test: Set<String> = []
        for (i, unit) in units.enumerated() {
            if first[unit] == nil { first[unit] = i; order.append(unit) }
            if isTest[i] { test.insert(unit) }
        }
        var assigned: [String: PatchSplit] = [:]
        for unit in test { assigned[unit] = .test }
        let byClass = Dictionary(grouping: order.filter { !test.contains($0) }, by: { labels[first[$0]!] })
        for label in byClass.keys.sorted() {
            var group = byClass[label]!
            var rng = SplitMix64(seed: seed, 0x5350_4C54, UInt64(label))   // "SPLT"
            for i in stride(from: group.count - 1, to: 0, by: -1) { group.swapAt(i, rng.nextInt(below: i + 1)) }
            func take(_ fraction: Double) -> Int {
                guard fraction > 0, group.count >= 2 else { return 0 }
                return min(group.count - 1, max(1, Int((fraction * Double(group.count)).rounded())))
            }
            let nTest = take(testFraction)
            for unit in group.prefix(nTest) { assigned[unit] = .test }
            group.removeFirst(nTest)
            let nVal = take(valFraction * Double(group.count + nTest) / Double(max(1, group.count)))
            for unit in group.prefix(nVal) { assigned[unit] = .val }
            for unit in group.dropFirst(nVal) { assigned[unit] = .train }
        }
        return units.map { assigned[$0]! }
    }
}
