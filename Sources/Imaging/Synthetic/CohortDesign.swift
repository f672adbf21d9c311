import Foundation

/// A patient cohort laid out like the paper's (11 control and 7 sickle-cell donors): every donor
/// gets `replicates` copies of one block — a DMSO vehicle well, the PMA series and the A23187
/// series, 17 wells — and whole blocks fill 96-well plates. Donors of the two genotypes alternate
/// over the plates, so genotype is not confounded with plate. Off unless `synth --cohort` is given.
public struct SynthCohort: Codable, Equatable, Sendable {
    /// Donors per genotype: HbAA controls and HbSS sickle-cell donors.
    public var controls: Int
    public var sickleCell: Int
    /// Copies of the 17-well block per donor (the paper: 3–5).
    public var replicates: Int
    /// SD of the donor's shift of the NETotic fraction, the same at every dose (a random intercept).
    public var donorSD: Double

    public init(controls: Int, sickleCell: Int, replicates: Int = 3, donorSD: Double = 0.03) {
        self.controls = controls; self.sickleCell = sickleCell; self.replicates = replicates; self.donorSD = donorSD
    }

    enum CodingKeys: String, CodingKey { case controls, sickleCell = "sickle_cell", replicates, donorSD = "donor_sd" }

    public static let block: [(Agonist, Double)] = [(.dmso, 0)] + Agonist.pma.series.map { (.pma, $0) }
        + Agonist.a23187.series.map { (.a23187, $0) }
    public var wellsPerDonor: Int { Self.block.count * replicates }
    public var donorsPerPlate: Int { max(1, 96 / wellsPerDonor) }
    public var donors: Int { controls + sickleCell }
    public var plates: Int { (donors + donorsPerPlate - 1) / donorsPerPlate }

    public var problem: String? {
        if controls < 0 || sickleCell < 0 || donors < 1 || donors > 99 { return "--cohort needs 0…99 donors per genotype, at least one in all (got \(controls),\(sickleCell))" }
        if replicates < 1 || wellsPerDonor > 96 { return "--replicates must be 1…5 (17 wells each must fit a 96-well plate; got \(replicates))" }
        if plates > 99 { return "--cohort: \(donors) donors need \(plates) plates, more than 99" }
        if !(donorSD >= 0 && donorSD <= 0.3) { return "--donor-sd must be 0…0.3 (a fraction of nuclei; got \(donorSD))" }
        return nil
    }

    /// Donors in plate order: controls and sickle-cell donors alternate while both last.
    public var donorGenotypes: [Genotype] {
        var out: [Genotype] = []
        for i in 0..<max(controls, sickleCell) {
            if i < controls { out.append(.control) }
            if i < sickleCell { out.append(.sickleCell) }
        }
        return out
    }

    public static func donorName(_ d: Int) -> String { d < 9 ? "D0\(d + 1)" : "D\(d + 1)" }

    /// The plate map: donor d's blocks on plate d / donorsPerPlate, wells row-major from A01.
    public func plateMap() -> [PlateMapRow] {
        var rows: [PlateMapRow] = []
        for (d, genotype) in donorGenotypes.enumerated() {
            let plate = d / donorsPerPlate, first = (d % donorsPerPlate) * wellsPerDonor
            for r in 0..<replicates {
                for (k, t) in Self.block.enumerated() {
                    let i = first + r * Self.block.count + k
                    rows.append(PlateMapRow(plate: PlateDesign.plateName(plate), well: WellName.wellName(row: i / 12, column: i % 12 + 1),
                                            agonist: t.0, concentration: t.1, vehiclePct: PlateDesign.vehiclePct,
                                            donor: Self.donorName(d), genotype: genotype))
                }
            }
        }
        return rows
    }

    /// The true dose-response in a cohort. As `PlateDesign.response`, except that the sickle-cell
    /// donors' higher baseline lifts their A23187 curve at every dose (top too): they respond to
    /// A23187 normally, so there is a genotype effect and no dose × genotype interaction for it,
    /// while their weak PMA response (low top, right-shifted EC50) is a real interaction.
    public static func response(_ agonist: Agonist, _ genotype: Genotype) -> DoseResponse {
        var r = PlateDesign.response(agonist, genotype)
        if agonist == .a23187 && genotype == .sickleCell {
            let control = PlateDesign.response(.a23187, .control)
            r.top = control.top + (r.bottom - control.bottom)
        }
        return r
    }

    /// Donor d's shift of the NETotic fraction (seeded by the set's seed and the donor alone).
    public func donorShift(seed: UInt64, donor d: Int) -> Double {
        var rng = SynthRandom(seed: seed, 0xD0_0000, UInt64(d))
        return donorSD * rng.normal()
    }
}
