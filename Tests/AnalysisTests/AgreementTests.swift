import Analysis
import XCTest

/// MAE, bias and Bland–Altman limits against numpy/scipy (Fixtures/scipy-reference.json).
final class AgreementTests: XCTestCase {
    func testMatchesNumpyAndScipy() throws {
        for c in ScipyReference.shared.agreement {
            let a = try Agreement.of(predicted: c.predicted, manual: c.manual)
            XCTAssertEqual(a.n, c.predicted.count)
            assertClose(a.meanAbsoluteError, c.mae, relative: 1e-12, c.name)
            XCTAssertEqual(a.bias, c.bias, accuracy: 1e-12 * max(1, abs(c.bias)), c.name)   // bias may be 0
            XCTAssertEqual(a.meanError, a.bias)
            assertClose(a.sdOfDifferences, c.sd, relative: 1e-12, c.name)
            assertClose(a.lowerLimit, c.loa_low, relative: 1e-12, c.name)
            assertClose(a.upperLimit, c.loa_high, relative: 1e-12, c.name)
            assertClose(a.biasLower95, c.bias_ci_low, relative: 1e-9, c.name)
            assertClose(a.biasUpper95, c.bias_ci_high, relative: 1e-9, c.name)
            assertClose(a.meanAbsoluteErrorPercent, c.mae_percent, relative: 1e-12, c.name)
        }
    }

    func testHandWorkedExample() throws {
        // d = [1, −1, 2, 2]: bias 1, MAE 1.5, sd √2, manual mean 5 → MAE 30 %.
        let a = try Agreement.of(predicted: [5, 3, 8, 8] as [Int], manual: [4, 4, 6, 6])
        XCTAssertEqual(a.bias, 1, accuracy: 1e-15)
        XCTAssertEqual(a.meanAbsoluteError, 1.5, accuracy: 1e-15)
        XCTAssertEqual(a.sdOfDifferences!, 2.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(a.upperLimit!, 1 + 1.96 * 2.0.squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(a.meanAbsoluteErrorPercent!, 30, accuracy: 1e-12)
        XCTAssertEqual(a.predictedMean, 6, accuracy: 1e-15)
    }

    func testOnePairAndZeroManualMean() throws {
        let one = try Agreement.of(predicted: [3] as [Int], manual: [1])
        XCTAssertEqual(one.bias, 2)
        XCTAssertNil(one.sdOfDifferences); XCTAssertNil(one.lowerLimit); XCTAssertNil(one.biasUpper95)
        let none = try Agreement.of(predicted: [1, 2] as [Int], manual: [0, 0])
        XCTAssertNil(none.meanAbsoluteErrorPercent)
        XCTAssertThrowsError(try Agreement.of(predicted: [] as [Int], manual: [])) { error in
            XCTAssertEqual("\(error)", "agreement is undefined: no pairs")
        }
        XCTAssertThrowsError(try Agreement.of(predicted: [1, 2] as [Int], manual: [1]))
    }
}
