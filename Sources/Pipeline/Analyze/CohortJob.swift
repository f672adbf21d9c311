import Analysis
import Foundation
import Storage

/// Settings of one `netosis analyze cohort` run.
public struct CohortOptions: Sendable {
    public var results: [String]
    public var table: String?
    public var plateMap: String?
    /// The between-donor factor (genotype in the paper).
    public var factor: String
    public var minimumNuclei: Int
    public var folder: String
    public var overwrite: Bool

    /// `results` already read (by the report).
    public var resultsSet: ResultsSet?

    public init(results: [String] = [], table: String? = nil, plateMap: String? = nil, factor: String = "genotype",
                minimumNuclei: Int = 50, folder: String, overwrite: Bool = false) {
        self.results = results; self.table = table; self.plateMap = plateMap; self.factor = factor
        self.minimumNuclei = minimumNuclei; self.folder = folder; self.overwrite = overwrite
    }
}

/// One agonist's cohort statistics: dose × factor as a linear mixed model with a random intercept
/// per donor (REML), and the type III F tests with Satterthwaite's df.
public struct CohortAgonist: Sendable {
    public var agonist: String
    public var wells: Int
    public var donors: Int
    public var levels: [String]
    public var doses: [String]
    public var model: RandomInterceptModel?
    /// dose, factor, dose × factor (in that order) when the model could be fitted.
    public var tests: [(term: String, test: SatterthwaiteTest)] = []
    public var problem: String?
    /// The classic two-way repeated-measures ANOVA, when every donor has every dose; else why not.
    public var classic: SplitPlotANOVA?
    public var classicProblem: String?
}

public struct CohortAnalysis: Sendable {
    public var agonists: [CohortAgonist]
    /// Per agonist × factor level (donors pooled), and per agonist × donor.
    public var byLevel: DoseResponseAnalysis
    public var byDonor: DoseResponseAnalysis
    public var options: CohortOptions
}

/// `netosis analyze cohort`: the paper's comparison of donor groups (SCD vs controls) — per agonist,
/// % NETotic ~ dose × genotype + (1 | donor) by REML, so donors with missing points still count,
/// F tests for dose, genotype and their interaction with Satterthwaite's df (as R's lmerTest), and
/// the dose-response fits per genotype and per donor (docs/analysis.md "Cohorts").
public enum CohortJob {
    public static func analyze(_ options: CohortOptions) throws -> CohortAnalysis {
        let factor = options.factor.lowercased()
        let set = try options.resultsSet ?? (options.results.isEmpty ? nil : ResultsSet.read(options.results))
        func doseResponse(_ groupBy: [String]) throws -> DoseResponseAnalysis {
            var o = DoseResponseOptions(results: options.results, table: options.table, plateMap: options.plateMap,
                                        groupBy: groupBy, minimumNuclei: options.minimumNuclei, folder: "")
            o.resultsSet = set
            return try DoseResponseJob.analyze(o)
        }
        let byLevel = try doseResponse(["agonist", factor])
        let byDonor = try doseResponse(["agonist", "donor"])
        let table = byLevel.table
        guard let at = table.columns.firstIndex(of: factor) else {
            throw AnalyzeError("--factor", "'\(factor)' is not a plate-map column (columns: \(table.columns.joined(separator: ", ")))")
        }
        // Vehicle-only wells (DMSO) belong to no agonist's dose series; an agonist's own zero dose does.
        let agonists = table.wells.filter { !$0.isVehicle }.map(\.treatment.agonist)
        var order: [String] = []
        for a in agonists where !order.contains(a) { order.append(a) }
        var results: [CohortAgonist] = []
        for agonist in order {
            let wells = table.wells.filter { $0.treatment.agonist == agonist }
            let doses = wells.map { ExportJob.number($0.concentration) }, levels = wells.map { $0.treatment.fields[at] }
            let donors = wells.map(\.treatment.donor)
            var r = CohortAgonist(agonist: agonist, wells: wells.count, donors: Set(donors).count, levels: unique(levels),
                                  doses: unique(doses))
            do {
                let design = try FactorialDesign(a: doses, b: levels)
                let ids = Dictionary(unique(donors).enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
                let model = try RandomInterceptModel.fit(y: wells.map(\.percentNETotic), x: design.matrix, groups: donors.map { ids[$0]! })
                r.model = model
                for (term, name) in zip(0..<3, ["dose", factor, "dose × \(factor)"]) {
                    r.tests.append((name, try SatterthwaiteTest(model, contrasts: design.contrasts(term))))
                }
            } catch let error as StatisticsError {
                r.problem = error.problem
            }
            do {
                r.classic = try SplitPlotANOVA.fit(y: wells.map(\.percentNETotic), subject: donors, between: levels, within: doses,
                                                   names: (factor, "dose"))
            } catch let error as StatisticsError {
                r.classicProblem = error.problem
            }
            results.append(r)
        }
        guard !results.isEmpty else { throw AnalyzeError(table.sources.joined(separator: ", "), "no agonist with concentrations above 0") }
        return CohortAnalysis(agonists: results, byLevel: byLevel, byDonor: byDonor, options: options)
    }

    static func unique(_ values: [String]) -> [String] {
        var out: [String] = []
        for v in values where !out.contains(v) { out.append(v) }
        return out
    }

    @discardableResult
    public static func run(_ options: CohortOptions, log: (String) -> Void = { print($0) },
                           warn: (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
    throws -> CohortAnalysis {
        let a = try analyze(options)
        try CohortOutputs.write(a)
        Exclusion.warn(a.byLevel.table.excluded, warn)
        log("analyze cohort: % NETotic ~ dose × \(options.factor) + (1 | donor), REML; type III F tests, Satterthwaite df (lmerTest)")
        for r in a.agonists {
            guard let model = r.model else { log("  \(r.agonist): not fitted: \(r.problem ?? "")"); continue }
            log(String(format: "  %@: %d wells, %d donors, %d doses, %@ %@; donor sd %.2f, residual sd %.2f", r.agonist, r.wells, r.donors,
                       r.doses.count, options.factor, r.levels.joined(separator: "/"), model.groupVariance.squareRoot(),
                       model.residualVariance.squareRoot()) + (model.isBoundary ? " (boundary fit: no donor variance)" : ""))
            for (term, t) in r.tests {
                log(String(format: "    %@: F(%d, %.1f) = %.3g, p = %.3g", term, t.numeratorDF, t.denominatorDF, t.f, t.pValue))
            }
            if let classic = r.classic {
                let tests = classic.rows.compactMap { row in row.f.map { String(format: "%@ F(%d) = %.3g, p = %.3g", row.term, row.degreesOfFreedom, $0, row.pValue ?? .nan) } }
                log("    classic repeated-measures ANOVA (complete data, replicates averaged): " + tests.joined(separator: "; "))
            } else if let why = r.classicProblem {
                log("    no classic repeated-measures table: \(why)")
            }
        }
        for g in a.byLevel.groups {
            let e = g.fit?.reportableEC50
            log("  \(g.label): " + (e.map { String(format: "EC50 %.3g %@ (95%% CI %.3g–%.3g)", $0.ec50, g.unit, $0.interval.lower, $0.interval.upper) }
                                    ?? (g.problem ?? "no EC50")))
        }
        log("→ \(options.folder)/ (\(CohortOutputs.files.joined(separator: ", ")))")
        return a
    }
}

/// anova.csv (per agonist and term), ec50.csv (per factor level and per donor), excluded.csv,
/// cohort.json and cohort.svg (the curves per factor level).
enum CohortOutputs {
    static let files = ["anova.csv", "ec50.csv", "excluded.csv", "anova-classic.csv", "cohort.json", "cohort.svg"]
    static let headers = [
        "agonist,term,f,numerator_df,denominator_df,p,wells,donors,donor_variance,residual_variance,boundary,problem",
        "agonist,group,level,wells,concentrations,ec50,ec50_low,ec50_high,unit,verdict,problem",
        "plate,well,reason",
        "agonist,source,sum_of_squares,df,mean_square,f,p,problem",
    ]

    static func write(_ a: CohortAnalysis) throws {
        let o = a.options
        let outputs = try AnalysisFolder.check(o.folder, files: files, kind: "netosis analyze cohort output", inputs: a.byLevel.table.sources + [o.plateMap].compactMap { $0 },
                                               overwrite: o.overwrite, headers: headers) { i in
            i == 4 ? "\"netosis.cohort\"" : "<!-- netosis analyze dose-response -->" }
        var anova = headers[0] + "\n"
        for r in a.agonists {
            if r.tests.isEmpty {
                anova += ExportJob.line([r.agonist, "", "", "", "", "", "\(r.wells)", "\(r.donors)", "", "", "", r.problem ?? ""])
            }
            for (term, t) in r.tests {
                anova += ExportJob.line([r.agonist, term, AnalysisFolder.cell(t.f), "\(t.numeratorDF)", AnalysisFolder.cell(t.denominatorDF), AnalysisFolder.cell(t.pValue), "\(r.wells)", "\(r.donors)",
                                         AnalysisFolder.cell(r.model?.groupVariance), AnalysisFolder.cell(r.model?.residualVariance), r.model?.isBoundary == true ? "yes" : "no", ""])
            }
        }
        var ec50 = headers[1] + "\n"
        for (kind, analysis) in [("level", a.byLevel), ("donor", a.byDonor)] {
            for g in analysis.groups {
                let e = g.fit?.reportableEC50
                ec50 += ExportJob.line([g.agonist, kind, g.keys.last?.value ?? "", "\(g.points.count)", "\(g.concentrations)", AnalysisFolder.cell(e?.ec50),
                                        AnalysisFolder.cell(e?.interval.lower), AnalysisFolder.cell(e?.interval.upper), g.unit, g.fit.map { "\($0.verdict)" } ?? "no fit", g.problem ?? ""])
            }
        }
        let excluded = headers[2] + "\n" + a.byLevel.table.excluded.map { ExportJob.line([$0.plate, $0.well, $0.reason]) }.joined()
        struct Report: Encodable {
            struct Term: Encodable { var term: String, f: Double?, numeratorDf: Int, denominatorDf: Double?, p: Double? }
            struct Agonist: Encodable {
                var agonist: String, wells: Int, donors: Int, levels: [String], doses: [String], donorVariance: Double?
                var residualVariance: Double?, boundary: Bool?, terms: [Term], problem: String?
            }
            var format = "netosis.cohort", formatVersion = 1, toolVersion = ToolVersion.string
            var factor: String, method: String, agonists: [Agonist]
        }
        let report = Report(factor: o.factor, method: "REML random intercept per donor; type III F tests, sum-to-zero contrasts, Satterthwaite df (lmerTest)",
                            agonists: a.agonists.map { r in
            Report.Agonist(agonist: r.agonist, wells: r.wells, donors: r.donors, levels: r.levels, doses: r.doses,
                           donorVariance: AnalysisFolder.finite(r.model?.groupVariance), residualVariance: AnalysisFolder.finite(r.model?.residualVariance),
                           boundary: r.model?.isBoundary, terms: r.tests.map {
                Report.Term(term: $0.term, f: AnalysisFolder.finite($0.test.f), numeratorDf: $0.test.numeratorDF, denominatorDf: AnalysisFolder.finite($0.test.denominatorDF),
                            p: AnalysisFolder.finite($0.test.pValue))
            }, problem: r.problem)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
        var classic = headers[3] + "\n"
        for r in a.agonists {
            guard let table = r.classic else { classic += ExportJob.line([r.agonist, "", "", "", "", "", "", r.classicProblem ?? ""]); continue }
            for row in table.rows {
                classic += ExportJob.line([r.agonist, row.term, AnalysisFolder.cell(row.sumOfSquares), "\(row.degreesOfFreedom)", AnalysisFolder.cell(row.meanSquare), AnalysisFolder.cell(row.f), AnalysisFolder.cell(row.pValue), ""])
            }
        }
        let texts = [anova, ec50, excluded, classic, json, DoseResponseChart.svg(a.byLevel)]
        try AnalysisFolder.write(outputs, texts)
    }
}
