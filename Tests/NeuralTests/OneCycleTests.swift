import Foundation
import XCTest
@testable import Neural

/// The one-cycle schedule against PyTorch's OneCycleLR (tools/make_one_cycle_fixture.py): the
/// learning rate and the cycled momentum at every step, and SGD, Adam and AdamW driven by it on a
/// fixed quadratic, weights after every step.
final class OneCycleTests: XCTestCase {
    struct Run: Decodable { let lr: [Double]; let momentum: [Double]; let weights: [[Double]] }
    struct Settings: Decodable {
        let max_lr: Double, total_steps: Int, pct_start: Double, div_factor: Double, final_div_factor: Double
        let base_momentum: Double, max_momentum: Double
    }
    struct Fixture: Decodable {
        let settings: Settings; let a: [Double]; let b: [Double]; let w0: [Double]; let weight_decay: Double
        let sgd: Run; let adam: Run; let adamw: Run
    }

    func fixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/one-cycle.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func schedule(_ s: Settings) -> LearningRateSchedule {
        LearningRateSchedule(base: s.max_lr, kind: .oneCycle(totalSteps: s.total_steps, pctStart: s.pct_start, divFactor: s.div_factor,
                                                             finalDivFactor: s.final_div_factor, baseMomentum: s.base_momentum,
                                                             maxMomentum: s.max_momentum))
    }

    func testRateAndMomentumMatchPyTorch() throws {
        let f = try fixture()
        let schedule = schedule(f.settings)
        for step in 0..<f.settings.total_steps {
            XCTAssertEqual(schedule.rate(at: step), f.sgd.lr[step], accuracy: 1e-12, "lr at step \(step)")
            XCTAssertEqual(try XCTUnwrap(schedule.momentum(at: step)), f.sgd.momentum[step], accuracy: 1e-12, "momentum at \(step)")
        }
        XCTAssertEqual(f.sgd.lr, f.adam.lr)
        // Other schedules leave the optimizer's momentum alone.
        XCTAssertNil(LearningRateSchedule(base: 0.1, kind: .cosine(totalSteps: 10, minimum: 0)).momentum(at: 3))
    }

    func testSGDAdamAndAdamWFollowPyTorchStepByStep() throws {
        let f = try fixture()
        for (name, optimizer, run) in [("sgd", SGD(schedule: schedule(f.settings), momentum: 0.9, weightDecay: Float(f.weight_decay)) as Optimizer, f.sgd),
                                       ("adam", Adam(schedule: schedule(f.settings), weightDecay: Float(f.weight_decay)), f.adam),
                                       ("adamw", Adam(schedule: schedule(f.settings), weightDecay: Float(f.weight_decay), decoupled: true),
                                        f.adamw)] {
            let w = Parameter(name: "w", shape: [f.w0.count], value: f.w0.map(Float.init))
            for step in 0..<f.settings.total_steps {
                for i in 0..<w.count { w.grad[i] = Float(2 * f.a[i]) * w.value[i] + Float(f.b[i]) }
                optimizer.update([w])
                for i in 0..<w.count {
                    XCTAssertEqual(Double(w.value[i]), run.weights[step][i], accuracy: 2e-5 * max(1, abs(run.weights[step][i])),
                                   "\(name) w[\(i)] after step \(step + 1)")
                }
            }
        }
    }
}
