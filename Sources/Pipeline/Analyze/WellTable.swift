import Analysis
import Foundation

/// One well's pooled counts and what it was treated with: the unit every plate analysis starts from.
public struct WellResponse: Sendable, Equatable {
    public var plate: String
    public var well: String
    /// The plate-map row (treatment, donor, genotype, extra columns).
    public var treatment: PlateMapEntry
    public var netotic: Int
    public var nonNETotic: Int

    /// % NETotic = 100 × NETotic / (NETotic + non-NETotic), the paper's response.
    public var percentNETotic: Double { 100 * Double(netotic) / Double(max(netotic + nonNETotic, 1)) }
    public var concentration: Double { treatment.concentration }
    /// A vehicle well (no agonist, concentration 0): reported apart, never a point of a curve.
    public var isVehicle: Bool { treatment.concentration == 0 }
}

/// A well or image left out of an analysis, and why (listed in every output).
public struct Exclusion: Sendable, Equatable {
    public var plate: String
    public var well: String
    public var reason: String

    /// The first five as warnings, then how many more excluded.csv lists.
    static func warn(_ excluded: [Exclusion], _ warn: (String) -> Void) {
        for e in excluded.prefix(5) { warn("left out \(e.plate) \(e.well): \(e.reason)") }
        if excluded.count > 5 { warn("\(excluded.count - 5) more left out: see excluded.csv") }
    }
}

/// The wells an analysis uses, read from results files (images of a well pooled, the plate map
/// joined) or from a counts table CSV; failed images and wells with too few nuclei left out and listed.
public struct WellTable: Sendable {
    public var wells: [WellResponse]
    public var excluded: [Exclusion]
    /// Where the numbers came from (for the outputs' provenance).
    public var sources: [String]
    public var plateMapPath: String
    /// The plate map's columns (lower-cased), the order of every `treatment.fields`.
    public var columns: [String]

    /// The counts-table columns: a plate map's eight plus the two counts.
    public static let tableColumns = PlateMap.requiredColumns + ["netotic", "non_netotic"]

    /// Wells from `screen` results: every `ok` image of a well pooled (counts summed), failed images
    /// listed, wells the plate map does not list left out and listed.
    public static func fromResults(_ paths: [String], plateMap given: String?, minimumNuclei: Int, set: ResultsSet? = nil) throws -> WellTable {
        let set = try set ?? ResultsSet.read(paths)
        guard let map = try set.plateMap(given: given) else {
            throw AnalyzeError(paths.joined(separator: ", "),
                               "no plate map: pass --platemap CSV (or screen with --platemap, which keeps it in the results)")
        }
        var excluded: [Exclusion] = []
        var pooled: [String: (plate: String, well: String, counts: [Int])] = [:], order: [String] = []
        for row in set.rows {
            let image = row.result.image
            guard image.isOK else {
                excluded.append(Exclusion(plate: image.plate, well: image.well, reason: "image \(image.name) failed: \(image.error)"))
                continue
            }
            let key = image.plate + "\u{1}" + image.well
            if pooled[key] == nil { pooled[key] = (image.plate, image.well, [0, 0, 0]); order.append(key) }
            for k in 0..<3 { pooled[key]!.counts[k] += image.counts[k] }
        }
        var wells: [WellResponse] = []
        for key in order {
            let p = pooled[key]!
            guard let entry = map.entry(plate: p.plate, well: p.well) else {
                excluded.append(Exclusion(plate: p.plate, well: p.well, reason: "not in the plate map \(map.path)"))
                continue
            }
            wells.append(WellResponse(plate: p.plate, well: entry.well, treatment: entry, netotic: p.counts[2], nonNETotic: p.counts[1]))
        }
        // Wells the plate map plans on a plate these results cover but that no image reached (lost,
        // skipped, not yet screened): listed, so a gap in a curve is never silent.
        for entry in set.wellsWithoutImage(in: map) {
            excluded.append(Exclusion(plate: entry.plate, well: entry.well, reason: "in the plate map but no image of it in the results"))
        }
        return finish(wells, excluded: excluded, minimumNuclei: minimumNuclei, sources: paths, plateMapPath: map.path,
                      columns: map.columns)
    }

    /// Wells from a counts table: the plate-map columns plus `netotic,non_netotic` (whole numbers ≥ 0),
    /// one row per well, from any counting tool.
    public static func fromTable(_ path: String, minimumNuclei: Int) throws -> WellTable {
        let map = try PlateMap.read(path)
        let missing = ["netotic", "non_netotic"].filter { !map.extraColumns.contains($0) }
        guard missing.isEmpty else {
            throw PlateMapError(path: path, problem: "lacks the count column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) "
                                + "(a counts table has the columns \(tableColumns.joined(separator: ",")))")
        }
        let at = (map.extraColumns.firstIndex(of: "netotic")!, map.extraColumns.firstIndex(of: "non_netotic")!)
        var wells: [WellResponse] = []
        for entry in map.entries {
            func count(_ index: Int, _ name: String) throws -> Int {
                let text = entry.extra[index]
                guard let v = Int(text), v >= 0 else {
                    throw PlateMapError(path: path, line: entry.line, problem: "\(name) '\(text)' is not a whole number ≥ 0")
                }
                return v
            }
            wells.append(WellResponse(plate: entry.plate, well: entry.well, treatment: entry,
                                      netotic: try count(at.0, "netotic"), nonNETotic: try count(at.1, "non_netotic")))
        }
        return finish(wells, excluded: [], minimumNuclei: minimumNuclei, sources: [path], plateMapPath: path, columns: map.columns)
    }

    static func finish(_ all: [WellResponse], excluded: [Exclusion], minimumNuclei: Int, sources: [String], plateMapPath: String,
                       columns: [String]) -> WellTable {
        var excluded = excluded, wells: [WellResponse] = []
        for w in all {
            let n = w.netotic + w.nonNETotic
            if n < max(minimumNuclei, 1) {
                excluded.append(Exclusion(plate: w.plate, well: w.well,
                                          reason: "only \(n) NETotic + non-NETotic nuclei (minimum \(max(minimumNuclei, 1)))"))
            } else {
                wells.append(w)
            }
        }
        return WellTable(wells: wells, excluded: excluded, sources: sources, plateMapPath: plateMapPath, columns: columns)
    }
}

/// An analysis that cannot run as asked, as one line naming the flag or file: `--group-by: 'colour'
/// is not a plate-map column (columns: …)`.
public struct AnalyzeError: Error, CustomStringConvertible, Sendable {
    public let subject: String
    public let problem: String
    public init(_ subject: String, _ problem: String) { self.subject = subject; self.problem = problem }
    public var description: String { "\(subject): \(problem)" }
}
