import Analysis
import Foundation
import Storage

/// Settings of one `netosis report` run.
public struct ReportOptions: Sendable {
    public var results: [String]
    public var plateMap: String?
    public var output: String
    public var overwrite: Bool
    /// Wells below this many NETotic + non-NETotic nuclei are left out of the dose-response fits.
    public var minimumNuclei: Int
    /// A folder of manual annotations (Cell Counter XML, points CSV): QC against them.
    public var annotations: String?

    public init(results: [String], plateMap: String? = nil, output: String, overwrite: Bool = false, minimumNuclei: Int = 50,
                annotations: String? = nil) {
        self.results = results; self.plateMap = plateMap; self.output = output; self.overwrite = overwrite
        self.minimumNuclei = minimumNuclei; self.annotations = annotations
    }
}

/// `netosis report`: one self-contained HTML file a biologist reads — run metadata, QC, plate
/// heatmaps, dose-response with the EC50 table, clustering — from results files (docs/user-guide.md).
public enum ReportJob {
    public static let generator = "<meta name=\"generator\" content=\"netosis report\">"

    @discardableResult
    public static func run(_ options: ReportOptions, log: (String) -> Void = { print($0) },
                           warn: (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
    throws -> String {
        let output = try OutputFile.check(options.output, kind: "netosis report", inputs: options.results + [options.plateMap].compactMap { $0 },
                                          overwrite: options.overwrite) { path in
            let head = FileHandle(forReadingAtPath: path).flatMap { try? $0.read(upToCount: 4096) } ?? Data()
            return String(decoding: head, as: UTF8.self).contains(generator)
        }
        if let first = options.results.first, ImageClassificationReport.isImageClassification(first) {
            if let other = options.results.first(where: { !ImageClassificationReport.isImageClassification($0) }) {
                throw FileFormatError(path: other, problem: "is not an image-classification results file like \(first); report them separately")
            }
            return try ImageClassificationReport.write(options.results, output: output, log: log)
        }
        var set = try ResultsSet.read(options.results)
        // Results of several methods on the same images: the first method's files carry the report,
        // the others are compared with it in their own section (their images are not duplicates).
        let comparison = try MethodComparison.of(options.results, files: set.files)
        if let comparison { set = comparison.groups[0].set }
        let map = try set.plateMap(given: options.plateMap)
        for line in set.duplicates { warn(line) }
        let annotated = try options.annotations.map { try AnnotationQC.measure(set, annotations: $0, from: options.results.joined(separator: ", ")) }
        for problem in annotated?.problems.prefix(5) ?? [] { warn(problem) }
        var page = HTMLPage()
        metadata(&page, set: set, paths: comparison?.groups[0].paths ?? options.results, map: map)
        qualityControl(&page, set: set, map: map, annotated: annotated)
        plates(&page, set: set)
        var sections = doseResponse(&page, options: options, set: set, map: map) + clustering(&page, options: options, set: set, map: map)
            + cohort(&page, options: options, set: set, map: map)
        if let comparison {
            try comparison.write(&page, annotations: options.annotations)
            sections.append("methods compared (\(comparison.groups.map(\.method).joined(separator: ", ")))")
        }
        let ok = set.rows.filter(\.result.image.isOK).count
        let title = "NETosis report: \(Set(set.rows.map(\.result.image.plate)).count) plate(s), \(set.rows.count) image(s)"
        let subtitle = "netosis \(ToolVersion.string) · \(FileHeader.now()) · \(ok) of \(set.rows.count) images screened ok"
        let html = page.html(title: title, subtitle: subtitle)
        try output.write { try AtomicFile.writeBytes(Data(html.utf8), to: $0) }
        log("report: \(set.rows.count) image(s) from \(options.results.count) results file(s); sections: metadata, QC, plates, "
            + sections.joined(separator: ", ") + " → \(options.output) (\(html.utf8.count / 1024) kB, self-contained)")
        return html
    }

    static func metadata(_ page: inout HTMLPage, set: ResultsSet, paths: [String], map: PlateMap?) {
        page.section("run", "Run")
        for (path, file) in zip(paths, set.files) {
            let model = (try? JSONSerialization.jsonObject(with: Data(file.identity.model.utf8))) as? [String: Any]
            let segmentation = String(decoding: (try? ResultsFile.encoder().encode(file.identity.segmentation)) ?? Data(), as: UTF8.self)
            page.facts([
                ("results file", path), ("screened", file.header.created), ("by", file.header.toolVersion),
                ("checkpoint", "\(file.identity.checkpoint) (sha256 \(file.identity.checkpointID)…)"),
                ("model", model.map { "\($0["name"] ?? "?") (\($0["architecture"] ?? "densenet"))" } ?? file.identity.model),
                ("method", "\(file.identity.method), patches \(file.identity.patchSize) px, normalisation \(file.identity.normalization)"),
                ("segmentation", segmentation),
                ("images", "\(file.results.count)"),
            ])
        }
        page.paragraph(map.map { "Plate map: \($0.path) (\($0.entries.count) wells; columns \($0.columns.joined(separator: ", ")))." }
                       ?? "No plate map: screen with --platemap or pass --platemap for treatments, dose-response and clustering.",
                       kind: map == nil ? "warn" : nil)
    }

    static func qualityControl(_ page: inout HTMLPage, set: ResultsSet, map: PlateMap?, annotated: AnnotationQC?) {
        page.section("qc", "Quality control")
        let images = set.rows.map(\.result.image)
        let ok = images.filter(\.isOK), failed = images.filter { !$0.isOK }
        let nuclei = ok.map(\.objects).sorted()
        let counts = (0..<3).map { k in ok.map { $0.counts[k] }.reduce(0, +) }
        page.facts([
            ("images", "\(images.count): \(ok.count) ok, \(failed.count) failed"),
            ("nuclei per ok image", nuclei.isEmpty ? "—" : "min \(nuclei.first!), median \(nuclei[nuclei.count / 2]), max \(nuclei.last!)"),
            ("objects", "\(counts.reduce(0, +)): \(counts[1]) non-NETotic, \(counts[2]) NETotic, \(counts[0]) other"),
            ("screening time", String(format: "%.0f s summed over ranks (%.2f s per image)", images.map(\.seconds).reduce(0, +),
                                      images.map(\.seconds).reduce(0, +) / Double(max(images.count, 1)))),
        ])
        if failed.isEmpty {
            page.paragraph("No image failed.", kind: "ok")
        } else {
            page.table(["plate", "well", "image", "why it failed"], failed.map { [$0.plate, $0.well, $0.name, $0.error] },
                       caption: "Failed images (left out of every count and analysis)")
        }
        if let map {
            let unmapped = Set(images.filter { map.entry(plate: $0.plate, well: $0.well) == nil }.map { "\($0.plate) \($0.well)" })
            if !unmapped.isEmpty {
                page.paragraph("\(unmapped.count) well(s) of the results are not in the plate map and are left out of the analyses: "
                               + unmapped.sorted().prefix(12).joined(separator: ", ") + (unmapped.count > 12 ? ", …" : ""), kind: "warn")
            }
            let missing = set.wellsWithoutImage(in: map).map { "\($0.plate) \($0.well)" }
            if !missing.isEmpty {
                page.paragraph("\(missing.count) well(s) of the plate map have no image in the results (lost, skipped or not yet screened): "
                               + missing.prefix(12).joined(separator: ", ") + (missing.count > 12 ? ", …" : ""), kind: "warn")
            }
        }
        if let qc = annotated {
            page.paragraph(qc.pairedImages == 0 ? "No screened image has an annotation file in the annotations folder."
                           : String(format: "Manual annotations: %d image(s); %d of %d markers (%.1f %%) lie on a segmented object (inside its box).",
                                    qc.pairedImages, qc.covered, qc.markers, 100 * qc.coverage),
                           kind: qc.pairedImages > 0 && qc.coverage >= 0.95 ? "ok" : "warn")
            if let counts = qc.counts {
                page.table(["class", "images", "Pearson r", "95 % CI", "MAE", "bias (screen − manual)"], counts.classes.map { c in
                    [c.className, "\(c.n)", c.pearsonR.map { String(format: "%.3f", $0) } ?? (c.rUndefinedReason ?? "—"),
                     c.rLower95.map { String(format: "%.3f–%.3f", $0, c.rUpper95!) } ?? "—", String(format: "%.2f", c.meanAbsoluteError),
                     String(format: "%+.2f", c.bias)]
                }, caption: "Counts per image against the annotations (as netosis counts)")
            }
        }
        if !set.duplicates.isEmpty {
            page.paragraph("\(set.duplicates.count) image(s) are in more than one results file: " + set.duplicates.prefix(3).joined(separator: "; "),
                           kind: "warn")
        }
    }

    static func plates(_ page: inout HTMLPage, set: ResultsSet) {
        page.section("plates", "Plates")
        var byPlate: [String: [String: [Int]]] = [:]
        for image in set.rows.map(\.result.image) where image.isOK {
            let well = PlateWell.normalise(image.well)?.well ?? image.well  // B3 and B03 are one well
            byPlate[image.plate, default: [:]][well] = zip(byPlate[image.plate]?[well] ?? [0, 0, 0], image.counts).map(+)
        }
        for plate in byPlate.keys.sorted() {
            let wells = byPlate[plate]!
            let percent = wells.compactMapValues { c -> Double? in c[1] + c[2] > 0 ? 100 * Double(c[2]) / Double(c[1] + c[2]) : nil }
            page.figure(PlateHeatmap.svg(plate: plate, values: percent, label: "% NETotic", maximum: 100),
                        caption: "\(plate): % NETotic nuclei per well = 100 × NETotic / (NETotic + non-NETotic); grey: no image or none counted.")
            page.figure(PlateHeatmap.svg(plate: plate, values: wells.mapValues { Double($0.reduce(0, +)) }, label: "nuclei"),
                        caption: "\(plate): segmented nuclei per well (all classes).")
        }
    }

    static func doseResponse(_ page: inout HTMLPage, options: ReportOptions, set: ResultsSet, map: PlateMap?) -> [String] {
        page.section("dose-response", "Dose-response")
        guard map != nil else { page.paragraph("Needs a plate map (agonist, concentration).", kind: "warn"); return ["dose-response (no plate map)"] }
        let genotypes = Set(map!.entries.map(\.genotype))
        let groupBy = genotypes.count > 1 ? ["agonist", "genotype"] : ["agonist"]
        do {
            var o = DoseResponseOptions(results: options.results, plateMap: options.plateMap, groupBy: groupBy,
                                        minimumNuclei: options.minimumNuclei, folder: "")
            o.resultsSet = set
            let a = try DoseResponseJob.analyze(o)
            page.paragraph("Per group (\(groupBy.joined(separator: " × "))): % NETotic of each well on log10 concentration, "
                           + "4-parameter logistic fit with its 95 % confidence band; dashed: EC50; open circles: vehicle wells.")
            page.figure(DoseResponseChart.svg(a), caption: "Dose-response curves (docs/analysis.md).")
            page.table(["group", "wells", "concentrations", "EC50", "95 % CI", "Hill", "bottom", "top", "R²", "vehicle %", "note"], a.groups.map { g in
                let e = g.fit?.reportableEC50
                let p = g.fit.map { $0.verdict.isUnambiguous && $0.model == .fourParameter ? $0.parameters : [] } ?? []
                let v = g.data?.vehicleResponses ?? []
                return [g.label, "\(g.points.count)", "\(g.concentrations)", e.map { String(format: "%.3g %@", $0.ec50, g.unit) } ?? "—",
                        e.map { String(format: "%.3g–%.3g", $0.interval.lower, $0.interval.upper) } ?? "—",
                        p.count == 4 ? String(format: "%.2f", p[3]) : "—", p.count == 4 ? String(format: "%.1f", p[0]) : "—",
                        p.count == 4 ? String(format: "%.1f", p[1]) : "—",
                        g.fit.flatMap { $0.rSquared.isFinite ? String(format: "%.3f", $0.rSquared) : nil } ?? "—",
                        v.isEmpty ? "—" : String(format: "%.1f", v.reduce(0, +) / Double(v.count)), g.problem ?? ""]
            }, caption: "EC50 table")
            if !a.comparisons.isEmpty {
                page.table(["agonist", "groups", "F", "df", "p (one EC50 for all)", "note"], a.comparisons.map { c in
                    [c.agonist, c.labels.joined(separator: " vs "), c.result.map { String(format: "%.3g", $0.f) } ?? "—",
                     c.result.map { "\($0.fDegreesOfFreedom.numerator), \($0.fDegreesOfFreedom.denominator)" } ?? "—",
                     c.result.map { String(format: "%.3g", $0.pValue) } ?? "—", c.problem ?? ""]
                }, caption: "EC50 comparisons (extra sum-of-squares F test)")
            }
            if !a.table.excluded.isEmpty {
                page.table(["plate", "well", "why left out"], a.table.excluded.map { [$0.plate, $0.well, $0.reason] }, caption: "Wells left out")
            }
            return ["dose-response (\(a.groups.count) group(s))"]
        } catch {
            page.paragraph("No dose-response analysis: \(error)", kind: "warn")
            return ["dose-response (not possible)"]
        }
    }

    static func clustering(_ page: inout HTMLPage, options: ReportOptions, set: ResultsSet, map: PlateMap?) -> [String] {
        page.section("clustering", "Clustering of NETotic nuclei")
        guard map != nil else { page.paragraph("Needs a plate map (the agonist of each well).", kind: "warn"); return ["clustering (no plate map)"] }
        do {
            let grid = paperTiles(set)
            var o = ClusteringOptions(results: options.results, plateMap: options.plateMap, tileRows: grid.rows, tileColumns: grid.columns, folder: "")
            o.resultsSet = set
            let a = try ClusteringJob.analyze(o)
            let size = a.images.first.map { String(format: "%.0f × %.0f px tiles of a %.0f × %.0f image", $0.tiles.grid.tileWidth, $0.tiles.grid.tileHeight,
                                                    $0.image.width, $0.image.height) } ?? "tiles"
            page.paragraph("Each image cut into \(a.options.tileRows) × \(a.options.tileColumns) tiles (\(size); tiles as near the paper's 576 × 512 px as the image allows, "
                           + "its 6 × 7 grid of a 4032 × 3072 well); in tiles with ≥ \(a.options.minimumPerTile) NETotic nuclei the average "
                           + "nearest-neighbour distance (ANND) and the Clark–Evans ratio with edge correction; agonists compared on count-matched "
                           + "tiles by the KS test (the paper's) and a paired t-test, over 100 seeded draws.")
            page.figure(ClusteringOutputs.chart(a), caption: "Empirical distribution of tile ANND per agonist.")
            page.table(["agonist", "images", "tiles kept", "median ANND (px)", "clustered", "random", "dispersed"], a.groups.map { g in
                let tests = a.images.filter { $0.image.group == g }.flatMap(\.tileTests), s = a.samples(g)
                return [g, "\(a.images.filter { $0.image.group == g }.count)", "\(s.count)",
                        s.isEmpty ? "—" : String(format: "%.1f", (try? Statistics.median(s.map(\.annd))) ?? .nan),
                        "\(tests.filter { $0.pattern == .clustered }.count)", "\(tests.filter { $0.pattern == .random }.count)",
                        "\(tests.filter { $0.pattern == .dispersed }.count)"]
            }, caption: "Tiles per agonist (Clark–Evans verdict at α = 0.05)")
            if !a.comparisons.isEmpty {
                page.table(["first", "second", "KS median p", "KS p < 0.05", "paired t median p", "note"], a.comparisons.map { c in
                    [c.first, c.second, c.result.map { String(format: "%.3g", $0.ks.median) } ?? "—",
                     c.result.map { String(format: "%.0f%%", 100 * $0.ks.fractionBelowAlpha) } ?? "—",
                     c.result.map { String(format: "%.3g", $0.pairedT.median) } ?? "—", c.problem ?? ""]
                }, caption: "Count-matched comparisons")
            }
            return ["clustering (\(a.groups.count) agonist(s))"]
        } catch {
            page.paragraph("No clustering analysis: \(error)", kind: "warn")
            return ["clustering (not possible)"]
        }
    }

    /// The paper's tile size, 576 × 512 px (6 × 7 tiles of a 4032 × 3072 well), on images of any size:
    /// rows and columns as near it as the most common image size allows (at least 1 × 1).
    static func paperTiles(_ set: ResultsSet) -> (rows: Int, columns: Int) {
        struct Size: Hashable { var width: Int, height: Int }
        let sizes = set.rows.filter(\.result.image.isOK).map { Size(width: $0.result.image.width, height: $0.result.image.height) }
        let common = Dictionary(grouping: sizes, by: { $0 }).max { $0.value.count < $1.value.count }?.key ?? Size(width: 4032, height: 3072)
        return (max(1, Int((Double(common.height) / 512).rounded())), max(1, Int((Double(common.width) / 576).rounded())))
    }

    /// Donors of two or more genotypes: the paper's cohort comparison (analyze cohort).
    static func cohort(_ page: inout HTMLPage, options: ReportOptions, set: ResultsSet, map: PlateMap?) -> [String] {
        guard let map, map.columns.contains("genotype"), map.columns.contains("donor") else { return [] }
        let donors = Set(map.entries.map(\.donor)), genotypes = Set(map.entries.map(\.genotype))
        guard donors.count > 2, genotypes.count > 1 else { return [] }
        page.section("cohort", "Cohort: dose × genotype")
        do {
            var o = CohortOptions(results: options.results, plateMap: options.plateMap, factor: "genotype", minimumNuclei: options.minimumNuclei, folder: "")
            o.resultsSet = set
            let a = try CohortJob.analyze(o)
            page.paragraph("Per agonist, % NETotic ~ dose × genotype + (1 | donor): a linear mixed model with a random intercept per donor, "
                           + "fitted by REML (donors with missing wells still count); type III F tests with Satterthwaite's degrees of freedom, "
                           + "as R's lmerTest. \(donors.count) donors, genotypes \(genotypes.sorted().joined(separator: ", ")).")
            page.figure(DoseResponseChart.svg(a.byLevel), caption: "Dose-response per genotype (donors pooled), 4PL with 95 % band.")
            var rows: [[String]] = []
            for r in a.agonists {
                if r.tests.isEmpty { rows.append([r.agonist, "—", "—", "—", "—", "\(r.wells)", "\(r.donors)", r.problem ?? ""]) }
                for (term, t) in r.tests {
                    rows.append([r.agonist, term, String(format: "%.3g", t.f), String(format: "%d, %.1f", t.numeratorDF, t.denominatorDF),
                                 String(format: "%.3g", t.pValue), "\(r.wells)", "\(r.donors)",
                                 r.model?.isBoundary == true ? "boundary fit (no donor variance)" : ""])
                }
            }
            page.table(["agonist", "term", "F", "df", "p", "wells", "donors", "note"], rows, caption: "Mixed-model F tests")
            let classic = a.agonists.compactMap { r in r.classic.map { (agonist: r.agonist, table: $0) } }
            if !classic.isEmpty {
                page.table(["agonist", "source", "SS", "df", "MS", "F", "p"], classic.flatMap { c in
                    c.table.rows.map { r in
                        [c.agonist, r.term, String(format: "%.4g", r.sumOfSquares), "\(r.degreesOfFreedom)", String(format: "%.4g", r.meanSquare),
                         r.f.map { String(format: "%.3g", $0) } ?? "", r.pValue.map { String(format: "%.3g", $0) } ?? ""]
                    }
                }, caption: "Classic two-way repeated-measures ANOVA (complete data: every donor at every dose; replicate wells averaged)")
            }
            page.table(["agonist", "genotype", "wells", "EC50", "95 % CI", "note"], a.byLevel.groups.map { g in
                let e = g.fit?.reportableEC50
                return [g.agonist, g.keys.last?.value ?? "", "\(g.points.count)", e.map { String(format: "%.3g %@", $0.ec50, g.unit) } ?? "—",
                        e.map { String(format: "%.3g–%.3g", $0.interval.lower, $0.interval.upper) } ?? "—", g.problem ?? ""]
            }, caption: "EC50 per genotype")
            return ["cohort (\(donors.count) donors)"]
        } catch {
            page.paragraph("No cohort analysis: \(error)", kind: "warn")
            return ["cohort (not possible)"]
        }
    }
}
