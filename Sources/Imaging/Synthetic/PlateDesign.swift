import Foundation

/// Four-parameter logistic dose-response: the expected NETotic fraction of nuclei at concentration c,
/// `bottom + (top − bottom) / (1 + (ec50 / c)^hill)` (c ≤ 0 gives `bottom`).
public struct DoseResponse: Codable, Equatable, Sendable {
    public var bottom: Double
    public var top: Double
    public var ec50: Double
    public var hill: Double

    public init(bottom: Double, top: Double, ec50: Double, hill: Double) {
        self.bottom = bottom; self.top = top; self.ec50 = ec50; self.hill = hill
    }

    public func fraction(at c: Double) -> Double {
        guard c > 0 else { return bottom }
        return bottom + (top - bottom) / (1 + pow(ec50 / c, hill))
    }
}

/// What a well was treated with (the paper's agonists; DMSO is the vehicle control; `freeze`, only in
/// `synth --phenotypes` sets, is necrosis by freezing at −80 °C, the paper's necrosis control).
public enum Agonist: String, Codable, Sendable, CaseIterable {
    case dmso = "DMSO"
    case pma = "PMA"
    case a23187 = "A23187"
    case freeze = "freeze"

    /// The agonists of every set (freeze only with phenotypes).
    public static let standard: [Agonist] = [.dmso, .pma, .a23187]

    public var unit: String {
        switch self {
        case .dmso, .freeze: return ""
        case .pma: return "nM"
        case .a23187: return "uM"
        }
    }

    /// Concentration series used to lay out a plate (PMA 0.001–200 nM, A23187 0.05–8 µM).
    public var series: [Double] {
        switch self {
        case .dmso, .freeze: return [0]
        case .pma: return [0.001, 0.01, 0.1, 1, 5, 20, 100, 200]
        case .a23187: return [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8]
        }
    }

    /// NETotic nuclei lie dispersed (PMA) or in clusters (A23187, a calcium ionophore).
    public var clustersNETs: Bool { self == .a23187 }
}

/// Donor genotype: HbAA controls and HbSS sickle-cell donors.
public enum Genotype: String, Codable, Sendable, CaseIterable {
    case control = "HbAA"
    case sickleCell = "HbSS"
}

/// One row of platemap.csv.
public struct PlateMapRow: Codable, Equatable, Sendable {
    public var plate: String
    public var well: String
    public var agonist: Agonist
    public var concentration: Double
    public var vehiclePct: Double
    public var donor: String
    public var genotype: Genotype

    public var unit: String { agonist.unit }
    /// The image stem for this well (`plate01_B03`).
    public var image: String { "\(plate)_\(well)" }
}

/// The plate layout and the true dose-response of each (agonist, genotype).
public enum PlateDesign {
    /// DMSO in every well (agonist stocks are in DMSO), percent v/v.
    public static let vehiclePct = 0.1

    /// The generative model's dose-response (docs/synthetic.md). Sickle-cell donors respond weakly to
    /// PMA (low top, right-shifted EC50) but normally to A23187; their baseline is a little higher.
    public static func response(_ agonist: Agonist, _ genotype: Genotype) -> DoseResponse {
        let bottom = genotype == .control ? 0.06 : 0.10
        switch (agonist, genotype) {
        case (.dmso, _), (.freeze, _): return DoseResponse(bottom: bottom, top: bottom, ec50: 1, hill: 1)
        case (.pma, .control): return DoseResponse(bottom: bottom, top: 0.70, ec50: 2.0, hill: 1.2)
        case (.pma, .sickleCell): return DoseResponse(bottom: bottom, top: 0.25, ec50: 10.0, hill: 1.0)
        case (.a23187, _): return DoseResponse(bottom: bottom, top: 0.65, ec50: 1.0, hill: 1.8)
        }
    }

    /// Expected NETotic fraction (NETotic / (NETotic + non-NETotic)) in a well.
    public static func expectedFraction(_ row: PlateMapRow) -> Double {
        response(row.agonist, row.genotype).fraction(at: row.concentration)
    }

    public static func plateName(_ p: Int) -> String { p < 9 ? "plate0\(p + 1)" : "plate\(p + 1)" }

    /// Plates × wells: wells are the first `wells` of a 96-well plate in row-major order (A01, A02, …).
    /// Per plate: max(1, wells/12) DMSO wells, then a PMA series, then an A23187 series (ascending;
    /// series longer than 8 repeat as replicates), then `freezeWells` freeze wells (phenotype sets).
    /// Plate p has donor D<p>; odd plates are HbAA controls, even plates HbSS sickle-cell donors.
    public static func plateMap(plates: Int, wells: Int, freezeWells: Int = 0) -> [PlateMapRow] {
        precondition(plates >= 1 && wells >= 1 && wells + freezeWells <= 96)
        let vehicle = max(1, Int((Double(wells) / 12).rounded()))
        let rest = max(0, wells - vehicle)
        let nPMA = (rest + 1) / 2, nA = rest / 2
        func doses(_ agonist: Agonist, _ k: Int) -> [Double] {
            let s = agonist.series
            if k == 0 { return [] }
            if k == 1 { return [s[s.count - 1]] }
            if k <= s.count { return (0..<k).map { s[Int((Double($0) * Double(s.count - 1) / Double(k - 1)).rounded())] } }
            return (0..<k).map { s[$0 * s.count / k] }
        }
        var treatments: [(Agonist, Double)] = Array(repeating: (.dmso, 0), count: min(vehicle, wells))
        treatments += doses(.pma, nPMA).map { (.pma, $0) }
        treatments += doses(.a23187, nA).map { (.a23187, $0) }
        treatments += Array(repeating: (.freeze, 0), count: freezeWells)
        var rows: [PlateMapRow] = []
        for p in 0..<plates {
            let genotype: Genotype = p % 2 == 0 ? .control : .sickleCell
            let donor = p < 9 ? "D0\(p + 1)" : "D\(p + 1)"
            for (i, t) in treatments.enumerated() {
                rows.append(PlateMapRow(plate: plateName(p), well: WellName.wellName(row: i / 12, column: i % 12 + 1),
                                        agonist: t.0, concentration: t.1, vehiclePct: vehiclePct,
                                        donor: donor, genotype: genotype))
            }
        }
        return rows
    }
}
