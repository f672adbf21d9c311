import Analysis
import Foundation
import Storage

/// The files of `analyze clustering`: per-image and per-tile tables, the comparisons with every
/// draw's p-values, exclusions, one JSON, and the ANND distributions as an SVG of empirical CDFs.
enum ClusteringOutputs {
    static let files = ["images.csv", "tiles.csv", "comparisons.csv", "excluded.csv", "clustering.json", "annd-cdf.svg"]
    static let format = "netosis.clustering"
    static let headers = [
        "image,plate,well,group,width,height,netotic,tiles_kept,clark_evans_r,clark_evans_z,clark_evans_p,pattern",
        "image,group,row,column,netotic,annd,clark_evans_r,clark_evans_p,pattern,excluded",
        "first,second,tiles_first,tiles_second,draws,mean_pairs,ks_median_p,ks_mean_p,ks_min_p,ks_max_p,ks_fraction_below_alpha,"
            + "paired_t_median_p,paired_t_fraction_below_alpha,mean_annd_difference,alpha,ks_p_values,problem",
        "plate,well,reason",
    ]

    static func write(_ a: ClusteringAnalysis) throws {
        let o = a.options
        let outputs = try AnalysisFolder.check(o.folder, files: files, kind: "netosis analyze clustering output", inputs: a.table.sources + [o.plateMap].compactMap { $0 },
                                               overwrite: o.overwrite, headers: headers) { $0 == 4 ? "\"\(format)\"" : "<!-- netosis analyze clustering -->" }
        let texts = [images(a), tiles(a), comparisons(a), excluded(a), try json(a), chart(a)]
        try AnalysisFolder.write(outputs, texts)
    }

    static func csv(_ header: String, _ rows: [[String]]) -> String { header + "\n" + rows.map { ExportJob.line($0) }.joined() }

    static func images(_ a: ClusteringAnalysis) -> String {
        csv(headers[0], a.images.map { m in
            let i = m.image, ce = m.wholeImage
            return [i.image, i.plate, i.well, i.group, AnalysisFolder.cell(i.width), AnalysisFolder.cell(i.height), "\(i.netotic.count)", "\(m.tiles.kept.count)",
                    AnalysisFolder.cell(ce?.ratio), AnalysisFolder.cell(ce?.z), AnalysisFolder.cell(ce?.pValue), ce?.pattern.rawValue ?? ""]
        })
    }

    static func tiles(_ a: ClusteringAnalysis) -> String {
        var rows: [[String]] = []
        for m in a.images {
            var k = 0
            for t in m.tiles.tiles {
                var ce: ClarkEvans?
                if t.annd != nil { ce = m.tileTests[k]; k += 1 }
                rows.append([m.image.image, m.image.group, "\(t.row)", "\(t.column)", "\(t.count)", AnalysisFolder.cell(t.annd), AnalysisFolder.cell(ce?.ratio), AnalysisFolder.cell(ce?.pValue),
                             ce?.pattern.rawValue ?? "", t.exclusion.map { "\($0)" } ?? ""])
            }
        }
        return csv(headers[1], rows)
    }

    static func comparisons(_ a: ClusteringAnalysis) -> String {
        csv(headers[2], a.comparisons.map { c in
            guard let r = c.result else {
                return [c.first, c.second, "\(a.samples(c.first).count)", "\(a.samples(c.second).count)"]
                    + [String](repeating: "", count: 10) + [AnalysisFolder.cell(a.options.alpha), "", c.problem ?? ""]
            }
            let pairs = Double(r.repetitions.map(\.pairs.count).reduce(0, +)) / Double(r.repetitions.count)
            let difference = r.repetitions.map(\.pairedT.meanDifference).reduce(0, +) / Double(r.repetitions.count)
            return [c.first, c.second, "\(r.firstCount)", "\(r.secondCount)", "\(r.repetitions.count)", AnalysisFolder.cell(pairs), AnalysisFolder.cell(r.ks.median),
                    AnalysisFolder.cell(r.ks.mean), AnalysisFolder.cell(r.ks.minimum), AnalysisFolder.cell(r.ks.maximum), AnalysisFolder.cell(r.ks.fractionBelowAlpha), AnalysisFolder.cell(r.pairedT.median),
                    AnalysisFolder.cell(r.pairedT.fractionBelowAlpha), AnalysisFolder.cell(difference), AnalysisFolder.cell(a.options.alpha),
                    r.ks.pValues.map { String(format: "%.4g", $0) }.joined(separator: " "), ""]
        })
    }

    static func excluded(_ a: ClusteringAnalysis) -> String {
        csv(headers[3], a.table.excluded.map { [$0.plate, $0.well, $0.reason] })
    }

    struct Report: Encodable {
        struct Group: Encodable {
            var name: String, images: Int, tilesKept: Int, medianAnnd: Double?, tilesClustered: Int, tilesRandom: Int, tilesDispersed: Int
        }
        struct Comparison: Encodable {
            var first: String, second: String, tilesFirst: Int, tilesSecond: Int, draws: Int?, ksPValues: [Double]?
            var ksMedianP: Double?, ksFractionBelowAlpha: Double?, pairedTPValues: [Double]?, pairedTMedianP: Double?, problem: String?
        }
        var format = ClusteringOutputs.format, formatVersion = 1, toolVersion = ToolVersion.string
        var sources: [String], tileRows: Int, tileColumns: Int, minimumPerTile: Int, repetitions: Int, maximumCountDifference: Int?
        var seed: UInt64, alpha: Double, images: Int, groups: [Group], comparisons: [Comparison], excluded: Int
    }

    static func json(_ a: ClusteringAnalysis) throws -> String {
        let o = a.options
        let groups = a.groups.map { g -> Report.Group in
            let tests = a.images.filter { $0.image.group == g }.flatMap(\.tileTests), samples = a.samples(g)
            return Report.Group(name: g, images: a.images.filter { $0.image.group == g }.count, tilesKept: samples.count,
                                medianAnnd: samples.isEmpty ? nil : try? Statistics.median(samples.map(\.annd)),
                                tilesClustered: tests.filter { $0.pattern == .clustered }.count,
                                tilesRandom: tests.filter { $0.pattern == .random }.count,
                                tilesDispersed: tests.filter { $0.pattern == .dispersed }.count)
        }
        let comparisons = a.comparisons.map { c in
            Report.Comparison(first: c.first, second: c.second, tilesFirst: a.samples(c.first).count, tilesSecond: a.samples(c.second).count,
                              draws: c.result?.repetitions.count, ksPValues: c.result?.ks.pValues, ksMedianP: c.result?.ks.median,
                              ksFractionBelowAlpha: c.result?.ks.fractionBelowAlpha, pairedTPValues: c.result?.pairedT.pValues,
                              pairedTMedianP: c.result?.pairedT.median, problem: c.problem)
        }
        let report = Report(sources: a.table.sources, tileRows: o.tileRows, tileColumns: o.tileColumns, minimumPerTile: o.minimumPerTile,
                            repetitions: o.repetitions, maximumCountDifference: o.maximumCountDifference, seed: o.seed, alpha: o.alpha,
                            images: a.images.count, groups: groups, comparisons: comparisons, excluded: a.table.excluded.count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    /// Empirical CDFs of the kept tiles' ANND, one step line per group.
    static func chart(_ a: ClusteringAnalysis) -> String {
        let width = 560.0, height = 380.0, left = 60.0, right = 20.0, top = 30.0, bottom = 50.0
        let all = a.groups.flatMap { a.samples($0).map(\.annd) }
        let low = 0.0, high = max((all.max() ?? 1) * 1.05, 1)
        func px(_ x: Double) -> Double { left + (x - low) / (high - low) * (width - left - right) }
        func py(_ y: Double) -> Double { height - bottom - y * (height - top - bottom) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height + 20 * Double(a.groups.count)))" \
        font-family="Helvetica, Arial, sans-serif" font-size="12">
        <!-- netosis analyze clustering -->
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="18" text-anchor="middle" font-size="14" font-weight="bold">ANND of NETotic nuclei per tile</text>
        <line x1="\(px(low))" y1="\(py(0))" x2="\(px(high))" y2="\(py(0))" stroke="black"/>
        <line x1="\(px(low))" y1="\(py(0))" x2="\(px(low))" y2="\(py(1))" stroke="black"/>

        """
        for t in stride(from: 0.0, through: 1.0, by: 0.25) {
            s += "<text x=\"\(px(low) - 6)\" y=\"\(py(t) + 4)\" text-anchor=\"end\">\(t)</text>\n"
        }
        let step = pow(10, floor(log10(high / 2)))
        for x in stride(from: 0.0, through: high, by: step * (high / step > 8 ? 2 : 1)) {
            s += "<text x=\"\(px(x))\" y=\"\(py(0) + 16)\" text-anchor=\"middle\">\(ExportJob.number(x))</text>\n"
        }
        s += "<text x=\"\((px(low) + px(high)) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">ANND (px)</text>\n"
        s += "<text transform=\"translate(16 \((py(0) + py(1)) / 2)) rotate(-90)\" text-anchor=\"middle\">fraction of tiles</text>\n"
        for (g, group) in a.groups.enumerated() {
            let colour = DoseResponseChart.palette[g % DoseResponseChart.palette.count]
            let values = a.samples(group).map(\.annd).sorted()
            var points = ["\(px(low)),\(py(0))"]
            for (i, v) in values.enumerated() {
                points.append("\(px(v)),\(py(Double(i) / Double(values.count)))")
                points.append("\(px(v)),\(py(Double(i + 1) / Double(values.count)))")
            }
            points.append("\(px(high)),\(py(values.isEmpty ? 0 : 1))")
            s += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            let y = height + 20 * Double(g) - 4
            s += "<rect x=\"\(left)\" y=\"\(y - 9)\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>"
            s += "<text x=\"\(left + 16)\" y=\"\(y)\">\(DoseResponseChart.escape(group)): \(values.count) tile(s)</text>\n"
        }
        return s + "</svg>\n"
    }
}
