import Analysis
import Foundation
import XCTest

/// `SplitPlotANOVA` (the classic two-way repeated-measures table) against R's
/// `aov(y ~ dose * genotype + Error(donor / dose))` on cell means (Fixtures/rm-anova-reference.json,
/// made by Fixtures/make_rm_anova_reference.py), and against the mixed model on the same complete
/// data: with one value per cell the REML random-intercept F tests are the classic ones exactly.
final class SplitPlotANOVATests: XCTestCase {
    struct Reference: Decodable {
        struct Row: Decodable { let stratum: String, term: String, ss: Double, df: Int, f: Double?, p: Double? }
        struct Dataset: Decodable { let name: String; let rows: [[MixedModelTests.Reference.Value]]; let reference: [Row] }
        let datasets: [Dataset]
    }

    static let reference: Reference = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/rm-anova-reference.json")
        return try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }()

    func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

    func fit(_ set: Reference.Dataset) throws -> SplitPlotANOVA {
        try SplitPlotANOVA.fit(y: set.rows.map { $0[3].number }, subject: set.rows.map { $0[0].text }, between: set.rows.map { $0[2].text },
                               within: set.rows.map { $0[1].text }, names: ("genotype", "dose"))
    }

    func testMatchesRsAov() throws {
        XCTAssertEqual(Self.reference.datasets.count, 3)
        for set in Self.reference.datasets {
            let table = try fit(set)
            // R's order: genotype, residuals (donor stratum), dose, dose:genotype, residuals (within stratum).
            XCTAssertEqual(table.rows.count, set.reference.count, set.name)
            for (mine, theirs) in zip(table.rows, set.reference) {
                XCTAssertEqual(mine.degreesOfFreedom, theirs.df, "\(set.name) \(theirs.term)")
                XCTAssertLessThan(relative(mine.sumOfSquares, theirs.ss), 1e-9, "\(set.name) \(theirs.term): SS \(mine.sumOfSquares) vs \(theirs.ss)")
                XCTAssertEqual(mine.f == nil, theirs.f == nil, "\(set.name) \(theirs.term)")
                if let f = mine.f, let want = theirs.f { XCTAssertLessThan(relative(f, want), 1e-9, "\(set.name) \(theirs.term): F") }
                if let p = mine.pValue, let want = theirs.p { XCTAssertLessThan(relative(p, want), 1e-9, "\(set.name) \(theirs.term): p \(p) vs \(want)") }
            }
        }
    }

    /// Equal groups, one value per donor × dose: the REML random-intercept model's type III F tests with
    /// Satterthwaite df reduce to the classic split-plot F tests (the same F, df (a−1, s−a) and
    /// ((d−1)(a−1), (d−1)(s−a))). Two independent computations of one table.
    func testEqualsTheMixedModelOnCompleteBalancedData() throws {
        let set = try XCTUnwrap(Self.reference.datasets.first { $0.name == "equal groups" })
        let donors = set.rows.map { $0[0].text }, doses = set.rows.map { $0[1].text }, genotypes = set.rows.map { $0[2].text }
        let y = set.rows.map { $0[3].number }
        let design = try FactorialDesign(a: doses, b: genotypes)
        let ids = Dictionary(Set(donors).sorted().enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let model = try RandomInterceptModel.fit(y: y, x: design.matrix, groups: donors.map { ids[$0]! })
        let classic = try fit(set).rows
        // FactorialDesign terms: 0 dose, 1 genotype, 2 interaction; classic rows: 0 genotype, 2 dose, 3 interaction.
        for (term, row) in [(0, 2), (1, 0), (2, 3)] {
            let t = try SatterthwaiteTest(model, contrasts: design.contrasts(term))
            let c = classic[row]
            XCTAssertEqual(t.numeratorDF, c.degreesOfFreedom)
            XCTAssertLessThan(relative(t.f, try XCTUnwrap(c.f)), 1e-5, "\(c.term): mixed F \(t.f), classic \(c.f!)")
            let errorDF = Double(classic[row == 0 ? 1 : 4].degreesOfFreedom)
            XCTAssertLessThan(relative(t.denominatorDF, errorDF), 1e-4, "\(c.term): Satterthwaite df \(t.denominatorDF), classic \(errorDF)")
        }
    }

    func testRefusesIncompleteOrDegenerateData() {
        // D2 has no value at dose 2: the classic table needs complete data.
        XCTAssertThrowsError(try SplitPlotANOVA.fit(y: [1, 2, 3, 4, 5, 6, 7], subject: ["D1", "D1", "D2", "D3", "D3", "D4", "D4"],
                                                    between: ["a", "a", "a", "b", "b", "b", "b"], within: ["1", "2", "1", "1", "2", "1", "2"])) {
            XCTAssertTrue("\($0)".contains("D2 has no value at 2"), "\($0)")
        }
        XCTAssertThrowsError(try SplitPlotANOVA.fit(y: [1, 2, 3, 4, 5, 6, 7, 8, 9], subject: ["D1", "D1", "D1", "D2", "D2", "D3", "D3", "D4", "D4"],
                                                    between: ["a", "a", "a", "a", "a", "b", "b", "b", "b"],
                                                    within: ["1", "1", "2", "1", "2", "1", "2", "1", "2"])) {
            XCTAssertTrue("\($0)".contains("unbalanced"), "\($0)")
        }
        XCTAssertThrowsError(try SplitPlotANOVA.fit(y: [1, 2, 3, 4], subject: ["D1", "D1", "D1", "D2"], between: ["a", "a", "b", "b"],
                                                    within: ["1", "2", "1", "2"])) { XCTAssertTrue("\($0)".contains("two groups"), "\($0)") }
        XCTAssertThrowsError(try SplitPlotANOVA.fit(y: [1, 2, 3, 4], subject: ["D1", "D1", "D2", "D2"], between: ["a", "a", "b", "b"],
                                                    within: ["1", "2", "1", "2"])) { XCTAssertTrue("\($0)".contains("more subjects"), "\($0)") }
    }
}
