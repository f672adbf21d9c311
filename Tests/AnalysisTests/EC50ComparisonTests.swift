import Analysis
import XCTest

/// Prism's "is logEC50 different?" extra-sum-of-squares F test against the same two fits in scipy.
final class EC50ComparisonTests: XCTestCase {
    func testMatchesScipy() throws {
        for case_ in DoseResponseReference.shared.comparisons {
            let groups = try case_.groups.enumerated().map { g, group in
                (label: "group \(g)", data: try DoseResponseData(concentrations: group.concentrations, responses: group.responses))
            }
            let test = try EC50Comparison.compare(groups, model: DoseResponseModel(fixture: case_.model))
            let name = case_.name
            XCTAssertEqual(test.separateDegreesOfFreedom, case_.df_separate, name)
            XCTAssertEqual(test.sharedDegreesOfFreedom, case_.df_shared, name)
            assertClose(test.separateSumOfSquares, case_.ss_separate, relative: 1e-8, "\(name) SS separate")
            assertClose(test.sharedSumOfSquares, case_.ss_shared, relative: 1e-8, "\(name) SS shared")
            for (a, e) in zip(test.sharedParameters, case_.shared_parameters) {
                assertClose(a, e, relative: 1e-4, "\(name) shared parameter")
            }
            for (fit, expected) in zip(test.separateFits, case_.separate_parameters) {
                for (a, e) in zip(fit.parameters, expected) { assertClose(a, e, relative: 1e-4, "\(name) separate parameter") }
            }
            assertClose(test.f, case_.f, relative: 1e-6, "\(name) F")
            assertClose(test.pValue, case_.p, relative: 1e-6, "\(name) p")
            print("\(name): F(\(test.fDegreesOfFreedom.numerator), \(test.fDegreesOfFreedom.denominator)) = \(test.f), p = \(test.pValue)")
        }
    }

    func testRefusesOneGroup() throws {
        let data = try DoseResponseData(concentrations: [1, 10, 100, 1000, 10000], responses: [1, 10, 50, 90, 99])
        XCTAssertThrowsError(try EC50Comparison.compare([(label: "PMA", data: data)])) { error in
            XCTAssertTrue("\(error)".contains("at least two groups"), "\(error)")
        }
    }
}
