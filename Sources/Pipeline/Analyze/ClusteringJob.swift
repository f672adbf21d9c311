import Analysis
import Foundation
import Storage

/// Settings of one `netosis analyze clustering` run.
public struct ClusteringOptions: Sendable {
    public var results: [String]
    /// Or two tables from any tool: nuclei (`image,x,y,class`) and images (`image,width,height,group`).
    public var nuclei: String?
    public var images: String?
    public var plateMap: String?
    /// The plate-map column whose values are the treatments compared (results input).
    public var groupBy: String
    /// Tiles per image, rows × columns (the paper: 6 × 7 over a 4032×3072 well, 576×512 px tiles).
    public var tileRows: Int
    public var tileColumns: Int
    /// Tiles with fewer NETotic nuclei get no ANND (the paper: 20).
    public var minimumPerTile: Int
    /// Pairs of groups to compare; empty: every pair.
    public var comparisons: [(String, String)]
    public var repetitions: Int
    /// Largest count difference between matched tiles (nil: nearest, however far).
    public var maximumCountDifference: Int?
    public var seed: UInt64
    public var alpha: Double
    public var folder: String
    public var overwrite: Bool
    /// `results` already read (by the report).
    public var resultsSet: ResultsSet?

    public init(results: [String] = [], nuclei: String? = nil, images: String? = nil, plateMap: String? = nil,
                groupBy: String = "agonist", tileRows: Int = 6, tileColumns: Int = 7,
                minimumPerTile: Int = TiledANND.paperMinimumCount, comparisons: [(String, String)] = [], repetitions: Int = 100,
                maximumCountDifference: Int? = 2, seed: UInt64 = 1, alpha: Double = 0.05, folder: String, overwrite: Bool = false) {
        self.results = results; self.nuclei = nuclei; self.images = images; self.plateMap = plateMap; self.groupBy = groupBy
        self.tileRows = tileRows; self.tileColumns = tileColumns; self.minimumPerTile = minimumPerTile
        self.comparisons = comparisons; self.repetitions = repetitions; self.maximumCountDifference = maximumCountDifference
        self.seed = seed; self.alpha = alpha; self.folder = folder; self.overwrite = overwrite
    }
}

/// One image measured: its tiles' ANNDs and Clark–Evans over the whole image.
public struct ImageClustering: Sendable {
    public var image: ImageNuclei
    public var tiles: TiledANND
    /// Per kept tile, Clark–Evans with the tile as window (same order as `tiles.kept`).
    public var tileTests: [ClarkEvans]
    /// Over the whole image (nil with fewer than the per-tile minimum of NETotic nuclei).
    public var wholeImage: ClarkEvans?
}

/// The paper's comparison of two treatments' tiles, or why it could not be made.
public struct ClusteringComparison: Sendable {
    public var first: String
    public var second: String
    public var result: CountMatchedComparison?
    public var problem: String?
}

public struct ClusteringAnalysis: Sendable {
    public var images: [ImageClustering]
    public var groups: [String]
    public var comparisons: [ClusteringComparison]
    public var table: NucleusTable
    public var options: ClusteringOptions

    /// The kept tiles' (count, ANND) of one group, in image order.
    public func samples(_ group: String) -> [CountedANND] {
        images.filter { $0.image.group == group }.flatMap(\.tiles.samples)
    }
}

/// `netosis analyze clustering`: ANND of NETotic nuclei per tile, Clark–Evans per tile and image,
/// and the paper's count-matched KS comparison between treatments (docs/analysis.md "Clustering").
public enum ClusteringJob {
    public static func analyze(_ options: ClusteringOptions) throws -> ClusteringAnalysis {
        let tables = options.nuclei != nil || options.images != nil
        guard tables != !options.results.isEmpty else {
            throw AnalyzeError("--results/--nuclei", "give results files or the two tables --nuclei and --images, not both and not neither")
        }
        let table: NucleusTable
        if tables {
            guard let nuclei = options.nuclei, let images = options.images else {
                throw AnalyzeError("--nuclei/--images", "the nuclei table needs its images table (image,width,height,group) and vice versa")
            }
            table = try NucleusTable.fromTables(nuclei: nuclei, images: images)
        } else {
            table = try NucleusTable.fromResults(options.results, plateMap: options.plateMap, groupBy: options.groupBy, set: options.resultsSet)
        }
        guard !table.images.isEmpty else { throw AnalyzeError(table.sources.joined(separator: ", "), "no images to analyse") }
        var measured: [ImageClustering] = []
        for image in table.images {
            let grid: TileGrid
            do {
                grid = try TileGrid(imageWidth: image.width, imageHeight: image.height, rows: options.tileRows, columns: options.tileColumns)
            } catch let error as StatisticsError { throw AnalyzeError("--tiles", "image \(image.image): \(error.problem)") }
            let tiles: TiledANND
            do { tiles = try TiledANND.measure(image.netotic, grid: grid, minimumCount: options.minimumPerTile) } catch let error as StatisticsError {
                throw AnalyzeError(image.image, error.problem)
            }
            let tests = try tiles.kept.map {
                try ClarkEvans.test(annd: $0.annd!, count: $0.count, area: grid.tileArea, perimeter: grid.tilePerimeter, alpha: options.alpha)
            }
            let whole = image.netotic.count >= options.minimumPerTile
                ? try ClarkEvans.test(image.netotic, width: image.width, height: image.height, alpha: options.alpha) : nil
            measured.append(ImageClustering(image: image, tiles: tiles, tileTests: tests, wholeImage: whole))
        }
        var groups: [String] = []
        for m in measured where !groups.contains(m.image.group) { groups.append(m.image.group) }
        var analysis = ClusteringAnalysis(images: measured, groups: groups, comparisons: [], table: table, options: options)
        var pairs = options.comparisons
        if pairs.isEmpty {
            for (i, a) in groups.enumerated() { for b in groups[(i + 1)...] { pairs.append((a, b)) } }
        }
        let matching = try CountMatching(maximumCountDifference: options.maximumCountDifference)
        for (a, b) in pairs {
            var c = ClusteringComparison(first: a, second: b)
            for g in [a, b] where !groups.contains(g) {
                throw AnalyzeError("--compare", "'\(g)' is not a group of the input (groups: \(groups.joined(separator: ", ")))")
            }
            let first = analysis.samples(a), second = analysis.samples(b)
            if first.isEmpty || second.isEmpty {
                c.problem = "not compared: \(first.isEmpty ? a : b) has no tile with \(options.minimumPerTile) or more NETotic nuclei"
            } else {
                do {
                    c.result = try CountMatchedComparison.compare(first, second, repetitions: options.repetitions, matching: matching,
                                                                  alpha: options.alpha, seed: options.seed)
                } catch let error as StatisticsError {
                    c.problem = "not compared: \(error.problem)"
                }
            }
            analysis.comparisons.append(c)
        }
        return analysis
    }

    @discardableResult
    public static func run(_ options: ClusteringOptions, log: (String) -> Void = { print($0) },
                           warn: (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
    throws -> ClusteringAnalysis {
        let a = try analyze(options)
        try ClusteringOutputs.write(a)
        Exclusion.warn(a.table.excluded, warn)
        log("analyze clustering: \(a.images.count) image(s), tiles \(options.tileRows)×\(options.tileColumns), "
            + "tiles with ≥ \(options.minimumPerTile) NETotic nuclei kept; treatments by "
            + (options.nuclei != nil ? "the images table's group column" : "the plate map's \(options.groupBy) column"))
        for g in a.groups {
            let mine = a.images.filter { $0.image.group == g }
            let tests = mine.flatMap(\.tileTests)
            let samples = a.samples(g)
            let annd = samples.isEmpty ? "" : String(format: ", median ANND %.1f px", (try? Statistics.median(samples.map(\.annd))) ?? .nan)
            let verdicts = [SpatialPattern.clustered, .random, .dispersed].map { p in "\(tests.filter { $0.pattern == p }.count) \(p.rawValue)" }
            log("  \(g): \(mine.count) image(s), \(samples.count) tile(s) kept\(annd); Clark–Evans per tile: \(verdicts.joined(separator: ", "))")
        }
        for c in a.comparisons {
            if let r = c.result {
                log(String(format: "  %@ vs %@: %d draws of count-matched tiles; KS median p = %.3g (%.0f%% of p < %.2g); paired t median p = %.3g",
                           c.first, c.second, r.repetitions.count, r.ks.median, 100 * r.ks.fractionBelowAlpha, options.alpha, r.pairedT.median))
            } else {
                log("  \(c.first) vs \(c.second): \(c.problem ?? "")")
            }
        }
        log("→ \(options.folder)/ (\(ClusteringOutputs.files.joined(separator: ", ")))")
        return a
    }
}
