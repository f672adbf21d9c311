import Analysis
import Foundation
import XCTest

/// `RandomInterceptModel` + `SatterthwaiteTest` against R's lme4/lmerTest on the datasets of
/// Fixtures/mixed-model-reference.json (made by Fixtures/make_mixed_model_reference.py):
/// y ~ dose * genotype + (1 | donor), REML, sum-to-zero contrasts, type III F tests.
final class MixedModelTests: XCTestCase {
    struct Reference: Decodable {
        struct Term: Decodable { let name: String, f: Double, numerator_df: Int, denominator_df: Double, p: Double }
        struct Fit: Decodable { let beta: [Double], theta: [Double], sigma: [Double], reml: [Double], terms: [Term] }
        struct Dataset: Decodable {
            let name: String
            let rows: [[Value]]
            let reference: Fit
        }
        enum Value: Decodable {
            case text(String), number(Double)
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
            }
            var text: String { if case .text(let s) = self { return s }; if case .number(let d) = self { return "\(d)" }; return "" }
            var number: Double { if case .number(let d) = self { return d }; return .nan }
        }
        let datasets: [Dataset]
    }

    static let reference: Reference = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mixed-model-reference.json")
        return try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }()

    func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

    func testREMLFitsAndSatterthwaiteFTestsMatchLmerTest() throws {
        var worst = (coefficient: 0.0, variance: 0.0, f: 0.0, df: 0.0, p: 0.0)
        for set in Self.reference.datasets {
            let donors = set.rows.map { $0[0].text }, doses = set.rows.map { $0[1].text }, genotypes = set.rows.map { $0[2].text }
            let y = set.rows.map { $0[3].number }
            let design = try FactorialDesign(a: doses, b: genotypes)
            let labels = Dictionary(Set(donors).sorted().enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let model = try RandomInterceptModel.fit(y: y, x: design.matrix, groups: donors.map { labels[$0]! })
            let ref = set.reference
            // Fixed effects (absolute for near-zero coefficients, relative otherwise), variances, REML criterion.
            for (mine, theirs) in zip(model.coefficients, ref.beta) {
                let error = abs(mine - theirs) / max(abs(theirs), 1)
                worst.coefficient = max(worst.coefficient, error)
                XCTAssertLessThan(error, 1e-4, "\(set.name): β \(mine) vs \(theirs)")
            }
            let sigma2 = ref.sigma[0] * ref.sigma[0], group2 = pow(ref.theta[0] * ref.sigma[0], 2)
            XCTAssertLessThan(relative(model.residualVariance, sigma2), 1e-4, set.name)
            XCTAssertLessThan(abs(model.groupVariance - group2) / max(group2, 1e-2 * sigma2), 1e-4, "\(set.name): σu² \(model.groupVariance) vs \(group2)")
            worst.variance = max(worst.variance, relative(model.residualVariance, sigma2))
            XCTAssertLessThan(relative(model.remlCriterion, ref.reml[0]), 1e-6, "\(set.name): REML \(model.remlCriterion) vs \(ref.reml[0])")
            if set.name == "no donor variance" { XCTAssertTrue(model.isBoundary || model.theta < 1e-4, "θ = \(model.theta)") }
            for (term, want) in zip(0..<3, ref.terms) {
                let test = try SatterthwaiteTest(model, contrasts: design.contrasts(term))
                XCTAssertEqual(test.numeratorDF, want.numerator_df, "\(set.name) \(want.name)")
                XCTAssertLessThan(relative(test.f, want.f), 1e-3, "\(set.name) \(want.name): F \(test.f) vs \(want.f)")
                XCTAssertLessThan(relative(test.denominatorDF, want.denominator_df), 1e-3,
                                  "\(set.name) \(want.name): df \(test.denominatorDF) vs \(want.denominator_df)")
                // Below 1e-8 a p-value moves by 1e-3 when the df move by 1e-5 (relative), finer than either side's
                // numerical derivatives: there the check is on log10 p.
                if want.p > 1e-8 {
                    XCTAssertLessThan(relative(test.pValue, want.p), 1e-3, "\(set.name) \(want.name): p \(test.pValue) vs \(want.p)")
                } else {
                    XCTAssertEqual(log10(test.pValue), log10(want.p), accuracy: 0.01, "\(set.name) \(want.name): p \(test.pValue) vs \(want.p)")
                }
                if set.name == "balanced" { print("balanced \(want.name): df \(test.denominatorDF) (lmerTest \(want.denominator_df), exact \(want.numerator_df == 1 ? 6 : 30))") }
                worst.f = max(worst.f, relative(test.f, want.f)); worst.df = max(worst.df, relative(test.denominatorDF, want.denominator_df))
                if want.p > 1e-8 { worst.p = max(worst.p, relative(test.pValue, want.p)) }
            }
        }
        print("mixed model vs lmerTest, worst relative differences: β \(worst.coefficient), σ² \(worst.variance), F \(worst.f), df \(worst.df), p (> 1e-8) \(worst.p)")
    }

    func testRefusals() {
        XCTAssertThrowsError(try RandomInterceptModel.fit(y: [1, 2, 3], x: Matrix([[1], [1], [1]]), groups: [0, 0, 0]))
        XCTAssertThrowsError(try FactorialDesign(a: ["1", "1"], b: ["x", "y"]))
    }
}
