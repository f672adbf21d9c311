import Analysis
import Foundation
import XCTest

/// The 1-D Gaussian mixture against scikit-learn's GaussianMixture (Fixtures/gmm-reference.json,
/// made by Fixtures/make_gmm_reference.py): means, weights, variances and posteriors within 1e-4.
final class GaussianMixtureTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable {
            let name: String
            let values: [Double], weights: [Double], means: [Double], variances: [Double]
            let mean_log_likelihood: Double
            let posteriors: [[Double]]
        }
        let sklearn: String
        let cases: [Case]
    }

    func testMatchesScikitLearn() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gmm-reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        XCTAssertEqual(reference.cases.count, 3)
        for c in reference.cases {
            let fit = try GaussianMixture1D.fit(c.values)
            XCTAssertTrue(fit.converged, c.name)
            for j in 0..<2 {
                XCTAssertEqual(fit.weights[j], c.weights[j], accuracy: 1e-4, "\(c.name): weight \(j)")
                XCTAssertEqual(fit.means[j], c.means[j], accuracy: 1e-4, "\(c.name): mean \(j)")
                XCTAssertEqual(fit.variances[j], c.variances[j], accuracy: 1e-4, "\(c.name): variance \(j)")
            }
            XCTAssertEqual(fit.meanLogLikelihood, c.mean_log_likelihood, accuracy: 1e-6, c.name)
            var worst = 0.0
            for (v, expected) in zip(c.values, c.posteriors) {
                let p = fit.posteriors(v)
                worst = max(worst, abs(p[0] - expected[0]), abs(p[1] - expected[1]))
            }
            XCTAssertLessThan(worst, 1e-4, "\(c.name): posteriors")
            // The Ogawa labels: confident cells only (larger posterior ≥ 0.8).
            let confident = c.values.filter { fit.posteriors($0).max()! >= 0.8 }.count
            let expectedConfident = c.posteriors.filter { $0.max()! >= 0.8 }.count
            XCTAssertEqual(confident, expectedConfident, c.name)
        }
    }

    func testRefusesTooFewOrNonFiniteValues() {
        XCTAssertThrowsError(try GaussianMixture1D.fit([1, 2, 3]))
        XCTAssertThrowsError(try GaussianMixture1D.fit([1, 2, .nan, 4, 5]))
    }
}
