import Analysis
import XCTest

/// 4PL and normalised fits against scipy.optimize.curve_fit (Fixtures/dose-response-reference.json):
/// parameters, standard errors, CIs, EC50 CI, R² and bands within 1e-4 relative; and the verdicts.
final class DoseResponseFitTests: XCTestCase {
    func testMatchesCurveFit() throws {
        var worst = 0.0   // the largest relative difference of a parameter, SE or EC50 CI end
        func track(_ a: Double, _ e: Double) { worst = max(worst, abs(a - e) / abs(e)) }
        for case_ in DoseResponseReference.shared.fits {
            let data = try DoseResponseData(concentrations: case_.concentrations, responses: case_.responses)
            let fit = try DoseResponseFit.fit(data, model: DoseResponseModel(fixture: case_.model))
            let name = case_.name
            XCTAssertEqual(fit.verdict, .unambiguous, name)
            let se = try XCTUnwrap(fit.standardErrors, name)
            let ci = try XCTUnwrap(fit.confidenceIntervals, name)
            for i in case_.parameters.indices {
                // Relative to the value, or to its standard error for a value near 0 (a bottom at 0.1 %).
                let scale = max(abs(case_.parameters[i]), case_.standard_errors[i])
                XCTAssertEqual(fit.parameters[i], case_.parameters[i], accuracy: 1e-4 * scale, "\(name) parameter \(i)")
                assertClose(se[i], case_.standard_errors[i], relative: 1e-4, "\(name) SE \(i)")
                XCTAssertEqual(ci[i].lower, case_.ci_low[i], accuracy: 1e-4 * max(abs(case_.ci_low[i]), scale), "\(name) CI low \(i)")
                XCTAssertEqual(ci[i].upper, case_.ci_high[i], accuracy: 1e-4 * max(abs(case_.ci_high[i]), scale), "\(name) CI high \(i)")
            }
            assertClose(fit.tMultiplier, case_.t, relative: 1e-9, "\(name) t")
            assertClose(fit.ec50, case_.ec50, relative: 1e-4, "\(name) EC50")
            let ec50 = try XCTUnwrap(fit.reportableEC50, name)
            assertClose(ec50.interval.lower, case_.ec50_ci[0], relative: 1e-4, "\(name) EC50 CI low")
            assertClose(ec50.interval.upper, case_.ec50_ci[1], relative: 1e-4, "\(name) EC50 CI high")
            assertClose(fit.sumOfSquares, case_.ssr, relative: 1e-6, "\(name) SSR")
            assertClose(fit.rSquared, case_.r2, relative: 1e-6, "\(name) R²")
            for (k, x) in case_.band_x.enumerated() {
                let band = try XCTUnwrap(fit.confidenceBand(at: x))
                let width = case_.band_high[k] - case_.band_low[k]
                XCTAssertEqual(fit.value(at: x), case_.band_fit[k], accuracy: 1e-4 * max(abs(case_.band_fit[k]), width), "\(name) ŷ(\(x))")
                assertClose(band.upper - band.lower, width, relative: 1e-4, "\(name) band width at \(x)")
            }
            for i in case_.parameters.indices { track(fit.parameters[i], case_.parameters[i]); track(se[i], case_.standard_errors[i]) }
            track(ec50.interval.lower, case_.ec50_ci[0])
            track(ec50.interval.upper, case_.ec50_ci[1])
            print(String(format: "%@: EC50 %.4g (95%% CI %.4g–%.4g), hill %.3f, R² %.4f, %d iterations",
                         name, fit.ec50, ec50.interval.lower, ec50.interval.upper,
                         fit.parameters[fit.model == .fourParameter ? 3 : 1], fit.rSquared, fit.iterations))
        }
        print("DoseResponseFit: worst relative difference from curve_fit (parameters, SEs, EC50 CIs) \(worst)")
    }

    func testVehicleIsKeptApart() throws {
        let data = try DoseResponseData(concentrations: [0, 0, 1, 10, 100, 1000, 0], responses: [2, 3, 5, 20, 60, 80, 4])
        XCTAssertEqual(data.vehicleResponses, [2, 3, 4])
        XCTAssertEqual(data.logConcentrations, [0, 1, 2, 3])
        let fit = try DoseResponseFit.fit(data)
        XCTAssertEqual(fit.pointCount, 4)
        XCTAssertEqual(fit.vehicleResponses, [2, 3, 4])
        XCTAssertThrowsError(try DoseResponseData(concentrations: [-1, 1], responses: [1, 2]))
        XCTAssertThrowsError(try DoseResponseData(concentrations: [1, 2], responses: [1]))
        XCTAssertThrowsError(try DoseResponseFit.fit(DoseResponseData(concentrations: [1, 10, 100], responses: [1, 2, 3])),
                             "3 points for 4 parameters")
        XCTAssertThrowsError(try DoseResponseFit.fit(DoseResponseData(concentrations: [5, 5, 5, 5, 5], responses: [1, 2, 3, 4, 5])),
                             "one concentration")
    }

    func testNormalizationUsesTheSmallestAndLargestMean() throws {
        let low = try DoseResponseData(concentrations: [1, 1, 10, 10], responses: [10, 14, 30, 34])   // means 12, 32
        let high = try DoseResponseData(concentrations: [1, 10, 10], responses: [20, 50, 54])          // means 20, 52
        let scale = try PercentNormalization(groups: [low, high])
        XCTAssertEqual(scale.zero, 12)
        XCTAssertEqual(scale.hundred, 52)
        XCTAssertEqual(scale.apply(low).responses, [-5, 5, 45, 55])
        XCTAssertEqual(scale.apply(32), 50)
        XCTAssertThrowsError(try PercentNormalization(means: [3, 3]))
        XCTAssertThrowsError(try PercentNormalization(means: []))
    }

    /// Only the foot of the curve was tested (true EC50 3 decades above the top dose): the data
    /// cannot pin the top plateau or the EC50, so no number is reported.
    func testEC50FarAboveTheTestedRangeIsAmbiguous() throws {
        let doses: [Double] = [0.001, 0.01, 0.1, 1, 10]
        let conc: [Double] = doses.flatMap { [$0, $0] }
        let wiggle: [Double] = [0.4, -0.3, 0.2, -0.5, 0.1, 0.3, -0.2, 0.4, -0.1, 0.2]
        let truth: [Double] = [5, 85, 4, 1]
        let y: [Double] = zip(conc, wiggle).map { DoseResponseModel.fourParameter.value(at: log10($0.0), truth) + $0.1 }
        let fit = try DoseResponseFit.fit(DoseResponseData(concentrations: conc, responses: y))
        XCTAssertFalse(fit.verdict.isUnambiguous, "\(fit.verdict) at \(fit.parameters)")
        XCTAssertNil(fit.reportableEC50)
        print("foot of the curve: \(fit.verdict)")
    }

    func testFlatResponseIsNotReported() throws {
        let doses: [Double] = [0.01, 0.1, 1, 10, 100, 1000]
        let conc: [Double] = doses.flatMap { [$0, $0, $0] }
        let wiggle: [Double] = [0.8, -0.6, 0.3, -0.9, 0.5, 0.1]
        let y: [Double] = conc.indices.map { 20 + wiggle[$0 % 6] }
        let fit = try DoseResponseFit.fit(DoseResponseData(concentrations: conc, responses: y))
        XCTAssertFalse(fit.verdict.isUnambiguous, "\(fit.verdict) at \(fit.parameters)")
        XCTAssertNil(fit.reportableEC50)
        print("flat response: \(fit.verdict)")
    }

    func testNonConvergenceAndNoDegreesOfFreedomAreVerdicts() throws {
        let case_ = DoseResponseReference.shared.fits[0]
        let data = try DoseResponseData(concentrations: case_.concentrations, responses: case_.responses)
        let stopped = try DoseResponseFit.fit(data, solver: LevenbergMarquardt(maxIterations: 1))
        guard case .notConverged = stopped.verdict else { return XCTFail("\(stopped.verdict)") }
        XCTAssertNil(stopped.reportableEC50)

        let exact = try DoseResponseFit.fit(DoseResponseData(concentrations: [0.1, 1, 10, 100], responses: [5, 20, 70, 90]))
        guard case .ambiguous(let reasons) = exact.verdict else { return XCTFail("\(exact.verdict)") }
        XCTAssertTrue(reasons[0].contains("no degrees of freedom"), "\(reasons)")
        XCTAssertNil(exact.confidenceIntervals)
    }
}

extension DoseResponseModel {
    /// The fixture's model name.
    init(fixture name: String) {
        guard let model = DoseResponseModel(rawValue: name) else { fatalError("unknown model \(name) in the fixture") }
        self = model
    }
}
