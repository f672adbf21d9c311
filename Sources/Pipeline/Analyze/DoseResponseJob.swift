import Analysis
import Foundation
import Storage

/// Settings of one `netosis analyze dose-response` run.
public struct DoseResponseOptions: Sendable {
    /// Results files of `screen` (with the plate map they keep, or `plateMap`) …
    public var results: [String]
    /// … or a counts table CSV (plate-map columns + netotic,non_netotic).
    public var table: String?
    public var plateMap: String?
    public var groupBy: [String]
    /// The paper's normalisation: 0 = the smallest dose mean, 100 = the largest, over all groups.
    public var normalize: Bool
    public var model: DoseResponseModel
    /// Wells with fewer NETotic + non-NETotic nuclei are left out (and listed).
    public var minimumNuclei: Int
    public var folder: String
    public var overwrite: Bool
    /// `results` already read (the report and the cohort analysis read them once for every analysis).
    public var resultsSet: ResultsSet?

    public init(results: [String] = [], table: String? = nil, plateMap: String? = nil, groupBy: [String] = ["agonist"],
                normalize: Bool = false, model: DoseResponseModel = .fourParameter, minimumNuclei: Int = 50,
                folder: String, overwrite: Bool = false) {
        self.results = results; self.table = table; self.plateMap = plateMap; self.groupBy = groupBy
        self.normalize = normalize; self.model = model; self.minimumNuclei = minimumNuclei; self.folder = folder
        self.overwrite = overwrite
    }
}

/// What a dose-response analysis found: the groups with their fits, EC50 comparisons, exclusions.
public struct DoseResponseAnalysis: Sendable {
    public var groups: [DoseResponseGroup]
    public var comparisons: [DoseResponseComparison]
    public var table: WellTable
    public var normalization: PercentNormalization?
    public var options: DoseResponseOptions
}

/// The extra-sum-of-squares F test of one agonist's groups (same unit): do they share one EC50?
public struct DoseResponseComparison: Sendable {
    public var agonist: String
    public var labels: [String]
    public var result: EC50Comparison?
    public var problem: String?
}

/// `netosis analyze dose-response`: per group, the 4PL (or normalised) fit of % NETotic on log10
/// concentration with Prism's statistics; EC50s compared within each agonist; tables, JSON and an
/// SVG figure in one folder (docs/analysis.md).
public enum DoseResponseJob {
    /// Analyses, writes the folder's files and prints one line per group and comparison.
    @discardableResult
    public static func run(_ options: DoseResponseOptions, log: (String) -> Void = { print($0) },
                           warn: (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
    throws -> DoseResponseAnalysis {
        let a = try analyze(options)
        try DoseResponseOutputs.write(a)
        Exclusion.warn(a.table.excluded, warn)
        let scale = a.normalization.map { String(format: "normalised: 0 = %.2f %%, 100 = %.2f %% NETotic", $0.zero, $0.hundred) }
            ?? "% NETotic"
        log("analyze dose-response: \(a.table.wells.count) well(s) in \(a.groups.count) group(s) by \(options.groupBy.joined(separator: ",")), "
            + "\(options.model.rawValue) on log10 concentration, response \(scale); \(a.table.excluded.count) left out")
        for g in a.groups {
            var line = "  \(g.label): \(g.points.count) well(s) at \(g.concentrations) concentration(s)"
            if let e = g.fit?.reportableEC50, let fit = g.fit {
                line += String(format: ", EC50 %.3g %@ (95%% CI %.3g–%.3g)", e.ec50, g.unit, e.interval.lower, e.interval.upper)
                    + (fit.rSquared.isFinite ? String(format: ", R² %.3f", fit.rSquared) : "")
            } else {
                line += ": " + (g.problem ?? "no EC50")
            }
            if !g.vehicle.isEmpty, let v = g.data?.vehicleResponses, !v.isEmpty {
                line += String(format: "; vehicle %.1f (%d well(s))", v.reduce(0, +) / Double(v.count), v.count)
            }
            log(line)
        }
        for c in a.comparisons {
            if let r = c.result {
                log(String(format: "  %@: one EC50 for %d groups? F(%d, %d) = %.3g, p = %.3g (extra sum of squares)", c.agonist, c.labels.count,
                           r.fDegreesOfFreedom.numerator, r.fDegreesOfFreedom.denominator, r.f, r.pValue))
            } else {
                log("  \(c.agonist): EC50s not compared: \(c.problem ?? "")")
            }
        }
        log("→ \(options.folder)/ (\(DoseResponseOutputs.files.joined(separator: ", ")))")
        return a
    }

    public static func analyze(_ options: DoseResponseOptions) throws -> DoseResponseAnalysis {
        guard (options.table == nil) != options.results.isEmpty else {
            throw AnalyzeError("--results/--table", "give results files or one counts table, not both and not neither")
        }
        if options.model == .normalized && !options.normalize {
            throw AnalyzeError("--model", "the normalized model fixes bottom 0 and top 100: use it with --normalize")
        }
        var table = try options.table.map { try WellTable.fromTable($0, minimumNuclei: options.minimumNuclei) }
            ?? WellTable.fromResults(options.results, plateMap: options.plateMap, minimumNuclei: options.minimumNuclei, set: options.resultsSet)
        guard !table.wells.isEmpty else {
            throw AnalyzeError(table.sources.joined(separator: ", "), "no wells left to analyse (\(table.excluded.count) excluded)")
        }
        var (groups, unassigned) = try DoseResponseGrouping.groups(table.wells, by: options.groupBy, plateMapColumns: table.columns)
        for w in unassigned {
            table.excluded.append(Exclusion(plate: w.plate, well: w.well, reason: "vehicle well (\(w.treatment.agonist.isEmpty ? "no agonist" : w.treatment.agonist)) "
                                            + "that shares its --group-by values with no curve"))
        }
        // Responses: % NETotic per well, or the paper's 0–100 scale set by the dose means of every group.
        func raw(_ g: DoseResponseGroup) throws -> DoseResponseData {
            try DoseResponseData(concentrations: (g.points + g.vehicle).map(\.concentration),
                                 responses: (g.points + g.vehicle).map(\.percentNETotic))
        }
        var normalization: PercentNormalization?
        if options.normalize {
            do {
                normalization = try PercentNormalization(groups: try groups.filter { $0.problem == nil }.map(raw))
            } catch let error as StatisticsError {
                throw AnalyzeError("--normalize", error.problem)
            }
        }
        for i in groups.indices where groups[i].problem == nil {
            var data = try raw(groups[i])
            if let normalization { data = normalization.apply(data) }
            groups[i].data = data
            do {
                let fit = try DoseResponseFit.fit(data, model: options.model)
                groups[i].fit = fit
                if !fit.verdict.isUnambiguous { groups[i].problem = "no EC50: \(fit.verdict)" }
            } catch let error as StatisticsError {
                groups[i].problem = "no fit: \(error.problem) (\(groups[i].points.count) well(s) at \(groups[i].concentrations) concentration(s))"
            }
        }
        // EC50s are compared only between groups of one agonist in one unit.
        var comparisons: [DoseResponseComparison] = []
        var families: [String: [Int]] = [:], familyOrder: [String] = []
        for (i, g) in groups.enumerated() where g.fit != nil {
            let key = g.agonist + "\u{1}" + g.unit
            if families[key] == nil { familyOrder.append(key) }
            families[key, default: []].append(i)
        }
        for key in familyOrder {
            let members = families[key]!
            guard members.count >= 2 else { continue }
            var c = DoseResponseComparison(agonist: groups[members[0]].agonist, labels: members.map { groups[$0].label })
            do {
                c.result = try EC50Comparison.compare(members.map { (groups[$0].label, groups[$0].data!) }, model: options.model)
            } catch let error as StatisticsError {
                c.problem = error.problem
            }
            // Prism compares ambiguous fits all the same; say so next to the p.
            let ambiguous = members.filter { !(groups[$0].fit?.verdict.isUnambiguous ?? false) }.map { groups[$0].label }
            if c.result != nil, !ambiguous.isEmpty {
                c.problem = "includes ambiguous fit(s): \(ambiguous.joined(separator: "; ")); read p with care"
            }
            comparisons.append(c)
        }
        return DoseResponseAnalysis(groups: groups, comparisons: comparisons, table: table, normalization: normalization, options: options)
    }
}
