import Analysis
import Foundation
import Storage

/// The files of `analyze dose-response` (docs/analysis.md, "the verb"): tables for
/// pandas and Prism, one JSON with everything, one SVG figure. Written together, atomically.
enum DoseResponseOutputs {
    static let files = ["wells.csv", "fits.csv", "curves.csv", "comparisons.csv", "excluded.csv", "dose-response.json",
                        "dose-response.svg", "plates.svg"]
    static let format = "netosis.dose-response"
    static let headers = [
        "group,plate,well,agonist,concentration,unit,donor,genotype,netotic,non_netotic,percent_netotic,response,role",
        "group,agonist,unit,model,wells,concentrations,verdict,bottom,top,log_ec50,hill,se_bottom,se_top,se_log_ec50,se_hill,"
            + "ec50,ec50_low,ec50_high,r_squared,sum_of_squares,df,vehicle_wells,vehicle_mean,vehicle_sd,problem",
        "group,log10_concentration,concentration,fit,band_low,band_high,verdict",
        "agonist,groups,model,f,df_numerator,df_denominator,p,shared_log_ec50,shared_ec50,problem",
        "plate,well,reason",
    ]

    static func write(_ a: DoseResponseAnalysis) throws {
        let o = a.options
        let outputs = try AnalysisFolder.check(o.folder, files: files, kind: "netosis analyze dose-response output", inputs: a.table.sources + [o.plateMap].compactMap { $0 },
                                               overwrite: o.overwrite, headers: headers) { $0 == 5 ? "\"\(format)\"" : "<!-- netosis analyze dose-response -->" }
        let texts = [wells(a), fits(a), curves(a), comparisons(a), excluded(a), try json(a), DoseResponseChart.svg(a), plates(a)]
        try AnalysisFolder.write(outputs, texts)
    }

    /// Heatmaps of % NETotic per plate (the wells analysed; left-out wells grey), 0–100 on one scale.
    static func plates(_ a: DoseResponseAnalysis) -> String {
        let byPlate = Dictionary(grouping: a.table.wells, by: \.plate)
        return PlateHeatmap.stacked(byPlate.keys.sorted().map { plate in
            (plate, Dictionary(byPlate[plate]!.map { ($0.well, $0.percentNETotic) }, uniquingKeysWith: { a, _ in a }))
        }, label: "% NETotic", maximum: 100, comment: "<!-- netosis analyze dose-response -->")
    }

    static func csv(_ header: String, _ rows: [[String]]) -> String {
        header + "\n" + rows.map { ExportJob.line($0) }.joined()
    }

    static func wells(_ a: DoseResponseAnalysis) -> String {
        var rows: [[String]] = []
        for g in a.groups {
            for (role, list) in [("point", g.points), ("vehicle", g.vehicle)] {
                for w in list {
                    let t = w.treatment
                    let response = a.normalization.map { $0.apply(w.percentNETotic) } ?? w.percentNETotic
                    rows.append([g.label, w.plate, w.well, t.agonist, AnalysisFolder.cell(t.concentration), t.unit, t.donor, t.genotype, "\(w.netotic)",
                                 "\(w.nonNETotic)", AnalysisFolder.cell(w.percentNETotic), AnalysisFolder.cell(response), role])
                }
            }
        }
        return csv(headers[0], rows)
    }

    static func fits(_ a: DoseResponseAnalysis) -> String {
        csv(headers[1], a.groups.map { g in
            let fit = g.fit
            var p = [String](repeating: "", count: 4), se = [String](repeating: "", count: 4)
            if let fit {
                let names = fit.model.parameterNames
                for (k, name) in ["bottom", "top", "logEC50", "hill"].enumerated() {
                    guard let at = names.firstIndex(of: name) else {  // fixed by the normalised model
                        p[k] = name == "bottom" ? "0" : name == "top" ? "100" : ""
                        continue
                    }
                    p[k] = AnalysisFolder.cell(fit.parameters[at])
                    se[k] = AnalysisFolder.cell(fit.standardErrors?[at])
                }
            }
            let e = fit?.reportableEC50
            let v = g.data?.vehicleResponses ?? []
            return [g.label, g.agonist, g.unit, fit?.model.rawValue ?? a.options.model.rawValue, "\(g.points.count)", "\(g.concentrations)",
                    fit.map { "\($0.verdict)" } ?? "no fit"] + p + se
                + [AnalysisFolder.cell(e?.ec50), AnalysisFolder.cell(e?.interval.lower), AnalysisFolder.cell(e?.interval.upper), AnalysisFolder.cell(fit?.rSquared), AnalysisFolder.cell(fit?.sumOfSquares),
                   fit.map { "\($0.degreesOfFreedom)" } ?? "", "\(v.count)", AnalysisFolder.cell(v.isEmpty ? nil : mean(v)),
                   AnalysisFolder.cell(v.count > 1 ? sd(v) : nil), g.problem ?? ""]
        })
    }

    /// The curve and its band at 101 points over the tested range, half a decade beyond each end.
    static func curvePoints(_ fit: DoseResponseFit) -> [(x: Double, y: Double, band: ConfidenceInterval?)] {
        let low = fit.logRange.lowerBound - 0.5, high = fit.logRange.upperBound + 0.5
        return (0...100).map { i in
            let x = low + (high - low) * Double(i) / 100
            return (x, fit.value(at: x), fit.confidenceBand(at: x))
        }
    }

    static func curves(_ a: DoseResponseAnalysis) -> String {
        var rows: [[String]] = []
        for g in a.groups {
            guard let fit = g.fit else { continue }
            if case .notConverged = fit.verdict { continue }
            for p in curvePoints(fit) {
                rows.append([g.label, AnalysisFolder.cell(p.x), AnalysisFolder.cell(pow(10, p.x)), AnalysisFolder.cell(p.y), AnalysisFolder.cell(p.band?.lower), AnalysisFolder.cell(p.band?.upper),
                             fit.verdict.isUnambiguous ? "unambiguous" : "ambiguous"])
            }
        }
        return csv(headers[2], rows)
    }

    static func comparisons(_ a: DoseResponseAnalysis) -> String {
        csv(headers[3], a.comparisons.map { c in
            let r = c.result
            return [c.agonist, c.labels.joined(separator: " | "), r?.model.rawValue ?? a.options.model.rawValue, AnalysisFolder.cell(r?.f),
                    r.map { "\($0.fDegreesOfFreedom.numerator)" } ?? "", r.map { "\($0.fDegreesOfFreedom.denominator)" } ?? "",
                    AnalysisFolder.cell(r?.pValue), AnalysisFolder.cell(r?.sharedLogEC50), AnalysisFolder.cell(r.map { pow(10, $0.sharedLogEC50) }), c.problem ?? ""]
        })
    }

    static func excluded(_ a: DoseResponseAnalysis) -> String {
        csv(headers[4], a.table.excluded.map { [$0.plate, $0.well, $0.reason] })
    }

    // MARK: JSON

    struct Report: Encodable {
        struct Group: Encodable {
            var label: String, keys: [String: String], agonist: String, unit: String, wells: Int, concentrations: Int
            var vehicleWells: Int, vehicleMean: Double?, model: String?, verdict: String, parameters: [String: Double]?
            var standardErrors: [String: Double]?, ec50: Double?, ec50Low: Double?, ec50High: Double?, rSquared: Double?
            var degreesOfFreedom: Int?, problem: String?
        }
        struct Comparison: Encodable {
            var agonist: String, groups: [String], f: Double?, dfNumerator: Int?, dfDenominator: Int?, p: Double?
            var sharedEC50: Double?, problem: String?
        }
        struct Excluded: Encodable { var plate: String, well: String, reason: String }
        var format = DoseResponseOutputs.format, formatVersion = 1, toolVersion = ToolVersion.string
        var sources: [String], plateMap: String, groupBy: [String], normalize: Bool, normalization: [String: Double]?
        var minimumNuclei: Int, wells: Int, groups: [Group], comparisons: [Comparison], excluded: [Excluded]
    }

    static func json(_ a: DoseResponseAnalysis) throws -> String {
        let groups = a.groups.map { g -> Report.Group in
            let fit = g.fit, e = fit?.reportableEC50, v = g.data?.vehicleResponses ?? []
            let names = fit?.model.parameterNames ?? []
            return Report.Group(
                label: g.label, keys: Dictionary(g.keys.map { ($0.column, $0.value) }, uniquingKeysWith: { a, _ in a }),
                agonist: g.agonist, unit: g.unit, wells: g.points.count, concentrations: g.concentrations, vehicleWells: v.count,
                vehicleMean: v.isEmpty ? nil : AnalysisFolder.finite(mean(v)), model: fit?.model.rawValue, verdict: fit.map { "\($0.verdict)" } ?? "no fit",
                parameters: fit.map { f in Dictionary(uniqueKeysWithValues: zip(names, f.parameters)).compactMapValues { AnalysisFolder.finite($0) } },
                standardErrors: fit?.standardErrors.map { Dictionary(uniqueKeysWithValues: zip(names, $0)).compactMapValues { AnalysisFolder.finite($0) } },
                ec50: AnalysisFolder.finite(e?.ec50), ec50Low: AnalysisFolder.finite(e?.interval.lower), ec50High: AnalysisFolder.finite(e?.interval.upper),
                rSquared: AnalysisFolder.finite(fit?.rSquared), degreesOfFreedom: fit?.degreesOfFreedom, problem: g.problem)
        }
        let comparisons = a.comparisons.map { c in
            Report.Comparison(agonist: c.agonist, groups: c.labels, f: AnalysisFolder.finite(c.result?.f),
                              dfNumerator: c.result?.fDegreesOfFreedom.numerator, dfDenominator: c.result?.fDegreesOfFreedom.denominator,
                              p: AnalysisFolder.finite(c.result?.pValue), sharedEC50: AnalysisFolder.finite(c.result.map { pow(10, $0.sharedLogEC50) }), problem: c.problem)
        }
        let report = Report(sources: a.table.sources, plateMap: a.table.plateMapPath, groupBy: a.options.groupBy,
                            normalize: a.options.normalize,
                            normalization: a.normalization.map { ["zero": $0.zero, "hundred": $0.hundred] },
                            minimumNuclei: a.options.minimumNuclei, wells: a.table.wells.count, groups: groups, comparisons: comparisons,
                            excluded: a.table.excluded.map { Report.Excluded(plate: $0.plate, well: $0.well, reason: $0.reason) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
    static func sd(_ v: [Double]) -> Double {
        let m = mean(v)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }
}
