import Foundation
import Storage

/// A synthetic plate set on disk (docs/file-formats.md, "Synthetic plate set"):
///
///     OUT/manifest.json                    every file synth wrote (size, SHA-256) and the options (SynthManifest)
///     OUT/synth.json                       parameters (format netosis.synth)
///     OUT/platemap.csv                     plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype
///     OUT/truth_nuclei.csv                 every object: plate,well,image,x,y,class,kind,radius,area,peak,lobes,touching,cluster
///     OUT/truth_wells.csv                  every well: true NETotic fraction and counts
///     OUT/images/<plate>_<well>.tif        one 16-bit well image (deflate)
///     OUT/annotations/CellCounter_<plate>_<well>.xml   a marker at every object
public enum SynthSet {
    public static let format = "netosis.synth"
    public static let formatVersion = 1

    /// How a well is written: one stitched TIFF, or its fields (672 × 512 each) as separate TIFFs.
    public enum Layout: String, Codable, Sendable, CaseIterable {
        case stitched, fields
    }

    public struct Options: Codable, Sendable {
        public var seed: UInt64
        public var plates: Int
        public var wells: Int
        public var width: Int
        public var height: Int
        public var layout: Layout
        public var fieldOrder: FieldOrder
        public var model: SynthModel
        // Options added for the analyses; nil when not given, so they are absent from synth.json and
        // manifest.json and every earlier seed keeps giving the same set.
        /// A donor cohort (its layout replaces plates × wells).
        public var cohort: SynthCohort?
        /// Fraction of the plate map's wells that are lost (no image, no results row; still in platemap.csv).
        public var missingWells: Double?
        /// Write results/<plate>.h5 straight from the truth instead of images and annotations.
        public var resultsOnly: Bool?
        /// Agonist-specific NET morphology and freeze (necrosis) wells (`Phenotypes`).
        public var phenotypes: Bool?

        public init(seed: UInt64, plates: Int, wells: Int, width: Int, height: Int, layout: Layout = .stitched,
                    fieldOrder: FieldOrder = .rowMajor, model: SynthModel = SynthModel(),
                    cohort: SynthCohort? = nil, missingWells: Double = 0, resultsOnly: Bool = false, phenotypes: Bool = false) {
            self.seed = seed; self.plates = plates; self.wells = wells; self.width = width; self.height = height
            self.layout = layout; self.fieldOrder = fieldOrder; self.model = model
            self.cohort = cohort
            if let cohort { self.plates = cohort.plates; self.wells = min(cohort.donors, cohort.donorsPerPlate) * cohort.wellsPerDonor }
            self.missingWells = missingWells == 0 ? nil : missingWells
            self.resultsOnly = resultsOnly ? true : nil
            self.phenotypes = phenotypes ? true : nil
        }

        public var isResultsOnly: Bool { resultsOnly ?? false }
        public var hasPhenotypes: Bool { phenotypes ?? false }

        /// The plate map of the set (every planned well, lost ones too).
        public var plan: [PlateMapRow] {
            cohort?.plateMap() ?? PlateDesign.plateMap(plates: plates, wells: wells,
                                                       freezeWells: hasPhenotypes ? Phenotypes.freezeWells(wells: wells) : 0)
        }

        /// Plate and well index of a planned well: its randomness is keyed by them.
        public func position(_ row: PlateMapRow) -> (plate: Int, well: Int) {
            let plate = (Int(row.plate.dropFirst("plate".count)) ?? 1) - 1
            let w = WellName.normaliseWell(row.well)!
            return (plate, w.row * 12 + w.column - 1)
        }

        /// Whether the well is lost (`missingWells`): seeded by the set's seed and the well alone.
        public func isMissing(_ row: PlateMapRow) -> Bool {
            guard let f = missingWells, f > 0 else { return false }
            let (p, w) = position(row)
            var rng = SynthRandom(seed: seed, 0x4D15_5106, UInt64(p), UInt64(w))
            return rng.unit() < f
        }

        /// The well's expected NETotic fraction: the 4PL of its treatment, shifted by its donor in a cohort.
        public func expectedFraction(_ row: PlateMapRow) -> Double {
            guard let cohort else { return PlateDesign.expectedFraction(row) }
            let donor = (Int(row.donor.dropFirst()) ?? 1) - 1
            let f = SynthCohort.response(row.agonist, row.genotype).fraction(at: row.concentration)
                + cohort.donorShift(seed: seed, donor: donor)
            return min(max(f, 0.001), 0.999)
        }

        /// Plates that hold at least one well that is not lost (each gets a results file in results-only mode).
        public var platesWithWells: [String] {
            var seen: [String] = []
            for row in plan where !isMissing(row) && seen.last != row.plate { seen.append(row.plate) }
            return seen
        }

        /// The field grid of the fields layout: (width / 672) × (height / 512) fields of 672 × 512.
        public var grid: FieldGrid {
            FieldGrid(columns: width / 672, rows: height / 512, fieldWidth: 672, fieldHeight: 512, order: fieldOrder, firstIndex: 1)
        }

        /// A one-line problem with the options, or nil.
        public var problem: String? {
            if let problem = cohort?.problem { return problem }
            if let f = missingWells, !(f >= 0 && f <= 0.5) { return "--missing-wells must be a fraction 0…0.5 (got \(f))" }
            if plates < 1 || plates > 99 { return "--plates must be 1…99 (got \(plates))" }
            if wells < 1 || wells > 96 { return "--wells must be 1…96 per plate (got \(wells))" }
            if hasPhenotypes && cohort != nil { return "--phenotypes and --cohort do not combine (a cohort's blocks have no freeze wells)" }
            if hasPhenotypes && wells + Phenotypes.freezeWells(wells: wells) > 96 {
                return "--phenotypes adds \(Phenotypes.freezeWells(wells: wells)) freeze well(s) per plate: --wells must leave room (≤ \(96 - Phenotypes.freezeWells(wells: wells)); got \(wells))"
            }
            if width < 64 || height < 64 || width > 16384 || height > 16384 {
                return "--width/--height must be 64…16384 px (got \(width)×\(height))"
            }
            if layout == .fields && (width % 672 != 0 || height % 512 != 0) {
                return "--layout fields needs --width a multiple of 672 and --height a multiple of 512 (got \(width)×\(height))"
            }
            return nil
        }

        /// Image files of one well, relative to OUT/images.
        public func imageFiles(_ image: String) -> [String] {
            switch layout {
            case .stitched: return ["\(image).tif"]
            case .fields:
                let n = grid.count
                return (1...n).map { n < 100 ? String(format: "%@_f%02d.tif", image, $0) : String(format: "%@_f%03d.tif", image, $0) }
            }
        }
    }

    public static let platemapHeader = "plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype"
    public static let nucleiHeader = "plate,well,image,x,y,class,kind,radius,area,peak,lobes,touching,cluster"
    public static let wellsHeader = "plate,well,image,agonist,concentration,unit,genotype,expected_fraction,observed_fraction,non_netotic,netotic,other,touching"

    /// Paths inside a set.
    public static func imagePath(_ out: String, _ image: String) -> String { "\(out)/images/\(image).tif" }
    public static func annotationPath(_ out: String, _ image: String) -> String { "\(out)/annotations/CellCounter_\(image).xml" }

    /// Truth rows of one written well.
    public struct WellRows: Codable, Sendable {
        public var index: Int
        public var nuclei: [String]
        public var well: String
        public init(index: Int, nuclei: [String], well: String) { self.index = index; self.nuclei = nuclei; self.well = well }
    }

    /// Writes a whole set in this process (tests, tools) under the rerun rules of `SynthRun.open`;
    /// `netosis synth` shards wells over ranks (SynthJob).
    public static func write(_ options: Options, to out: String, overwrite: Bool = false) throws {
        if let problem = options.problem { throw ImageError(path: out, problem: problem) }
        guard !options.isResultsOnly else { throw ImageError(path: out, problem: "a results-only set is written by netosis synth --results-only") }
        var run = try SynthRun.open(out, options: options, overwrite: overwrite)
        guard !run.isComplete else { return }
        var rows: [WellRows] = []
        for i in run.plan.indices where !options.isMissing(run.plan[i]) {
            let well = renderWell(i, plan: run.plan, options: options)
            if !run.completeWells.contains(i) {
                try run.begin(run.wellPaths(i))
                _ = try writeWell(well, to: out, options: options)
                run.record(try SynthRun.entries(out, run.wellPaths(i)))
            }
            rows.append(WellRows(index: i, nuclei: nucleiRows(well), well: wellRow(well)))
        }
        try run.writeTables(nuclei: rows.map(\.nuclei), wells: rows.map(\.well))
    }

    /// Renders well `index` (0-based over plates × wells, plate-major) of the plan.
    public static func renderWell(_ index: Int, plan: [PlateMapRow], options: Options) -> SynthWell {
        let (plate, well) = options.position(plan[index])
        return WellRenderer.render(row: plan[index], plateIndex: plate, wellIndex: well, seed: options.seed,
                                   width: options.width, height: options.height, model: options.model,
                                   expected: options.expectedFraction(plan[index]), phenotypes: options.hasPhenotypes)
    }

    /// Places the objects of well `index` without drawing them (results-only sets).
    public static func placeWell(_ index: Int, plan: [PlateMapRow], options: Options) -> WellRenderer.Placement {
        let (plate, well) = options.position(plan[index])
        return WellRenderer.place(row: plan[index], plateIndex: plate, wellIndex: well, seed: options.seed,
                                  width: options.width, height: options.height, model: options.model,
                                  expected: options.expectedFraction(plan[index]), phenotypes: options.hasPhenotypes)
    }

    /// Writes the well's image and Cell Counter XML; returns its truth rows (nuclei CSV lines, well CSV line).
    public static func writeWell(_ well: SynthWell, to out: String, options: Options? = nil) throws -> (nuclei: [String], well: String) {
        let image = well.row.image
        if let options, options.layout == .fields {
            // Fields in acquisition order; the Cell Counter XML and truth stay in well coordinates
            // (the well as WellCatalog assembles it, pixel-identical to the stitched layout).
            let names = options.imageFiles(image)
            for (field, name) in zip(try options.grid.split(well.image), names) {
                try TIFFWriter.write(field, to: "\(out)/images/\(name)", compression: .deflate)
            }
        } else {
            try TIFFWriter.write(well.image, to: imagePath(out, image), compression: .deflate)
        }
        try AtomicFile.write(Data(cellCounterXML(well).utf8), to: annotationPath(out, image))
        return (nucleiRows(well), wellRow(well))
    }

    static func fmt(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }

    /// Concentrations as written in platemap.csv (shortest exact form: 0.001, 5, 0.25).
    static func concentration(_ c: Double) -> String {
        c == c.rounded() ? String(Int(c)) : String(format: "%g", c)
    }

    public static func platemapRow(_ r: PlateMapRow) -> String {
        "\(r.plate),\(r.well),\(r.agonist.rawValue),\(concentration(r.concentration)),\(r.unit),\(fmt(r.vehiclePct, 1)),\(r.donor),\(r.genotype.rawValue)"
    }

    public static func nucleiRows(_ w: SynthWell) -> [String] { nucleiRows(w.row, w.objects) }

    public static func nucleiRows(_ row: PlateMapRow, _ objects: [SynthObject]) -> [String] {
        objects.map { o in
            "\(row.plate),\(row.well),\(row.image),\(fmt(o.x)),\(fmt(o.y)),\(o.cls.rawValue),\(o.kind.rawValue),"
            + "\(fmt(o.radius)),\(o.area),\(fmt(o.peak, 1)),\(o.lobes),\(o.touching ? 1 : 0),\(o.cluster)"
        }
    }

    public static func wellRow(_ w: SynthWell) -> String { wellRow(w.row, w.objects, expected: w.expectedFraction) }

    public static func wellRow(_ r: PlateMapRow, _ objects: [SynthObject], expected: Double) -> String {
        "\(r.plate),\(r.well),\(r.image),\(r.agonist.rawValue),\(concentration(r.concentration)),\(r.unit),"
            + "\(r.genotype.rawValue),\(fmt(expected, 6)),\(fmt(objects.observedFraction, 6)),"
            + "\(objects.count(.nonNETotic)),\(objects.count(.netotic)),\(objects.count(.other)),\(objects.filter { $0.touching }.count)"
    }

    /// A marker sits at the truth position as written (2 decimals), rounded to the nearest pixel, so
    /// XML and truth_nuclei.csv agree exactly.
    public static func markerCoordinate(_ v: Double) -> Int { Int(Double(fmt(v))!.rounded()) }

    /// Fiji Cell Counter XML with the sample's layout (CRLF, types 1…5 (3: necrotic, phenotype sets), integer MarkerX/MarkerY, MarkerZ 1).
    public static func cellCounterXML(_ w: SynthWell) -> String {
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<CellCounter_Marker_File>", " <Image_Properties>",
                     "     <Image_Filename>\(w.row.image).tif</Image_Filename>", " </Image_Properties>", " <Marker_Data>",
                     "     <Current_Type>1</Current_Type>"]
        for type in 1...5 {
            lines.append("     <Marker_Type>")
            lines.append("         <Type>\(type)</Type>")
            for o in w.objects where o.kind.markerType == type {
                lines.append("         <Marker>")
                lines.append("             <MarkerX>\(markerCoordinate(o.x))</MarkerX>")
                lines.append("             <MarkerY>\(markerCoordinate(o.y))</MarkerY>")
                lines.append("             <MarkerZ>1</MarkerZ>")
                lines.append("         </Marker>")
            }
            lines.append("     </Marker_Type>")
        }
        lines += [" </Marker_Data>", "</CellCounter_Marker_File>"]
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Writes synth.json, platemap.csv and the two truth tables (rows in plan order).
    public static func writeTables(to out: String, options: Options, plan: [PlateMapRow],
                                   nuclei: [[String]], wells: [String]) throws {
        try AtomicFile.write(Data(([platemapHeader] + plan.map(platemapRow)).joined(separator: "\n").appending("\n").utf8),
                             to: "\(out)/platemap.csv")
        try AtomicFile.write(Data(([nucleiHeader] + nuclei.flatMap { $0 }).joined(separator: "\n").appending("\n").utf8),
                             to: "\(out)/truth_nuclei.csv")
        try AtomicFile.write(Data(([wellsHeader] + wells).joined(separator: "\n").appending("\n").utf8),
                             to: "\(out)/truth_wells.csv")
        struct Meta: Codable {
            var format: String, format_version: Int, tool_version: String
            var options: Options
            var dose_response: [String: DoseResponse]
            /// Cohorts only: each donor's shift of the NETotic fraction.
            var donor_shift: [String: Double]?
            /// Phenotype sets only: the generator's separability of PMA from A23187 NETs (`Phenotypes`).
            var phenotypes: PhenotypeMeta?
        }
        var responses: [String: DoseResponse] = [:]
        for a in Agonist.standard + (options.hasPhenotypes ? [.freeze] : []) {
            for g in Genotype.allCases {
                responses["\(a.rawValue)/\(g.rawValue)"] = options.cohort == nil ? PlateDesign.response(a, g) : SynthCohort.response(a, g)
            }
        }
        let shifts = options.cohort.map { c in
            Dictionary(uniqueKeysWithValues: (0..<c.donors).map { (SynthCohort.donorName($0), c.donorShift(seed: options.seed, donor: $0)) })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(Meta(format: format, format_version: formatVersion, tool_version: ToolVersion.string,
                                           options: options, dose_response: responses, donor_shift: shifts,
                                           phenotypes: options.hasPhenotypes ? PhenotypeMeta() : nil))
        try AtomicFile.write(json + Data("\n".utf8), to: "\(out)/synth.json")
    }
}

/// What synth.json says about a phenotype set's NET shapes.
struct PhenotypeMeta: Codable {
    var typical_share = Phenotypes.typicalShare
    var necrotic_share = Phenotypes.necroticShare
    /// Ranges of radius, core/level, core SD/radius, edge, texture depth per morphology.
    var ranges = Dictionary(uniqueKeysWithValues: Phenotypes.Morphology.allCases.map { m in
        (m.rawValue, Phenotypes.ranges(m).map { [$0.lowerBound, $0.upperBound] })
    })
    /// Best balanced accuracy any classifier of PMA vs A23187 NETs can reach (Bayes rule, equal priors).
    var separability_balanced = Phenotypes.balancedSeparability
}
