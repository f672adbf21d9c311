import Determinism
import Foundation
@testable import Neural
import XCTest

/// The engine's threads: how many the process takes (CoreBudget), the team that runs them, the
/// in-process all-reduce, and model replicas for inference and training — with results that do not
/// depend on the thread count (inference bit for bit; training to float rounding).
final class ThreadTeamTests: XCTestCase {
    func origin(_ environment: [String: String] = [:], affinity: Int = 4, online: Int = 8, quota: Double? = nil) -> CoreBudget.Origin {
        CoreBudget.Origin(environment: environment, affinity: affinity, online: online, quota: quota)
    }

    func testCoreBudgetFollowsAffinityQuotaRanksAndOverrides() {
        XCTAssertEqual(CoreBudget.choose(origin()), CoreBudget(threads: 4, source: "affinity 4 cores"))
        XCTAssertEqual(CoreBudget.choose(origin(affinity: 1)).threads, 1)   // mpirun --bind-to core
        XCTAssertEqual(CoreBudget.choose(origin(quota: 2.5)), CoreBudget(threads: 3, source: "cgroup quota 2.5 cores"))
        // Unbound ranks share the node's cores; bound ones keep their own.
        XCTAssertEqual(CoreBudget.choose(origin(["OMPI_COMM_WORLD_LOCAL_SIZE": "4"], affinity: 8)).threads, 2)
        XCTAssertEqual(CoreBudget.choose(origin(["OMPI_COMM_WORLD_LOCAL_SIZE": "4"], affinity: 2)).threads, 2)
        XCTAssertEqual(CoreBudget.choose(origin(["OMP_NUM_THREADS": "2"])), CoreBudget(threads: 2, source: "OMP_NUM_THREADS=2"))
        XCTAssertEqual(CoreBudget.choose(origin(["OPENBLAS_NUM_THREADS": "16"])).threads, 4, "never above the cores owned")
        XCTAssertEqual(CoreBudget.choose(origin(["NETOSIS_THREADS": "6", "OMP_NUM_THREADS": "1"])),
                       CoreBudget(threads: 6, source: "NETOSIS_THREADS=6"))
        XCTAssertEqual(CoreBudget.cpuListCount("0-3,8,10-11\n"), 7)
        XCTAssertEqual(CoreBudget.cpuListCount("5"), 1)
        XCTAssertNil(CoreBudget.cpuListCount("3-1"))
        XCTAssertNil(CoreBudget.cpuListCount("x"))
        XCTAssertGreaterThanOrEqual(CoreBudget.affinityCount(), 1)
        // cgroup v2: the job's quota binds the step's cgroup below it, which has none of its own.
        let root = NSTemporaryDirectory() + "cgroup-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try? FileManager.default.createDirectory(atPath: root + "/job/step", withIntermediateDirectories: true)
        try? "0::/job/step\n".write(toFile: root + "/self", atomically: true, encoding: .utf8)
        try? "max 100000\n".write(toFile: root + "/job/step/cpu.max", atomically: true, encoding: .utf8)
        try? "150000 100000\n".write(toFile: root + "/job/cpu.max", atomically: true, encoding: .utf8)
        XCTAssertEqual(CoreBudget.cgroupQuota(procSelfCgroup: root + "/self", root: root), 1.5)
    }

    func testTeamRunsEveryMemberConcurrentlyAndSumsInMemberOrder() {
        let team = ThreadTeam(size: 3)
        var seen = [Int](repeating: 0, count: 3)
        seen.withUnsafeMutableBufferPointer { s in team.run { s[$0] += 1 } }
        XCTAssertEqual(seen, [1, 1, 1])
        // The all-reduce waits for every member: it could not finish unless all three ran at once.
        let reduce = TeamAllReduce(size: 3)
        func contribution(_ m: Int) -> [Double] { [Double(m) + 0.1, 1e16, -1e16 + Double(m)] }
        let expected = (0..<3).map { j in (contribution(0)[j] + contribution(1)[j]) + contribution(2)[j] }
        var values = (0..<3).map(contribution)
        for round in 0..<50 {   // reused many times: no member overtakes another
            for m in 0..<3 { values[m] = contribution(m) }
            values.withUnsafeMutableBufferPointer { v in
                team.run { m in v[m].withUnsafeMutableBufferPointer { reduce.sum(member: m, $0.baseAddress!, count: 3) } }
            }
            for m in 0..<3 { XCTAssertEqual(values[m], expected, "round \(round), member \(m)") }
        }
    }

    func testInferenceLogitsDoNotDependOnTheThreadCount() throws {
        let model = try DenseNet(named: "densenet-tiny", seed: 4)
        let (n, s) = (11, 32)
        var g = SplitMix64(seed: 3)
        let patches = (0..<n * s * s).map { _ in Float(g.next() % 4000) }
        func logits(_ threads: Int) throws -> [Float] {
            let classifier = PatchClassifier(model: model, batchSize: 3, team: ThreadTeam(size: threads))
            return try classifier.classify(count: n, channels: 1, height: s, width: s) { first, count, raw in
                raw = Array(patches[first * s * s ..< (first + count) * s * s])
            }.logits
        }
        let one = try logits(1)
        XCTAssertEqual(try logits(2), one)
        XCTAssertEqual(try logits(3), one)
    }

    /// One SGD step of densenet-tiny on 8 images: 2 or 4 replicas (BatchNorm statistics summed across
    /// them) give the weights and running statistics one thread gives, to float rounding (1e-4 of each
/// tensor's largest value); so does the
    /// next step (the replicas took the updated weights).
    func testReplicatedTrainingStepEqualsOneThread() throws {
        let (n, s) = (8, 32)
        var g = SplitMix64(seed: 9)
        let images = (0..<n * s * s).map { _ in g.nextNormal() }
        let labels = (0..<n).map { $0 % 3 }
        func train(_ threads: Int) throws -> [Parameter] {
            let model = try DenseNet(named: "densenet-tiny", seed: 2)
            let trainer = try ReplicatedTraining(model, team: ThreadTeam(size: threads))
            let optimizer = SGD(schedule: LearningRateSchedule(base: 0.1), momentum: 0.9, weightDecay: 1e-4)
            let loss = SoftmaxCrossEntropy()
            for _ in 0..<2 {
                _ = try images.withUnsafeBufferPointer { x in
                    try trainer.step(optimizer: optimizer, beforeUpdate: nil) { replica, t in
                        let first = n * t / threads, count = n * (t + 1) / threads - first
                        return try replica.gradients(images: x.baseAddress! + first * s * s, labels: Array(labels[first..<first + count]),
                                                     height: s, width: s, loss: loss, step: optimizer.step, checkFinite: false)
                    }
                }
            }
            // Every replica holds the primary's weights after the step.
            for replica in trainer.replicas.models.dropFirst() {
                XCTAssertEqual(replica.stateTensors.map(\.value), model.stateTensors.map(\.value))
            }
            return model.stateTensors
        }
        let one = try train(1)
        for threads in [2, 4] {
            let many = try train(threads)
            var worst: Float = 0
            for (a, b) in zip(one, many) {
                let scale = max(a.value.map(abs).max()!, 1e-6)
                worst = max(worst, zip(a.value, b.value).map { abs($0 - $1) }.max()! / scale)
            }
            // Sums in another order (BatchNorm statistics in shares, the loss mean), then two steps at
            // lr 0.1 with momentum: rounding, not arithmetic (a wrong share or scale is ≥ 1e-2).
            XCTAssertLessThan(worst, 1e-4, "\(threads) threads")
        }
    }

    /// A non-finite loss on one replica stops the step before any weight changes, naming the step,
    /// and the team is free again (no member left waiting in a BatchNorm all-reduce).
    func testNonFiniteLossOnOneReplicaStopsTheStep() throws {
        let (n, s) = (4, 32)
        var images = [Float](repeating: 0.5, count: n * s * s)
        images[3 * s * s] = .nan   // in the second replica's half
        let model = try DenseNet(named: "densenet-tiny", seed: 2)
        let before = model.parameters.map(\.value)
        let trainer = try ReplicatedTraining(model, team: ThreadTeam(size: 2))
        let optimizer = SGD(schedule: LearningRateSchedule(base: 0.1), momentum: 0.9, weightDecay: 0)
        func step() throws {
            _ = try images.withUnsafeBufferPointer { x in
                try trainer.step(optimizer: optimizer, beforeUpdate: nil) { replica, t in
                    try replica.gradients(images: x.baseAddress! + t * 2 * s * s, labels: [0, 1], height: s, width: s,
                                          loss: SoftmaxCrossEntropy(), step: optimizer.step, checkFinite: false)
                }
            }
        }
        XCTAssertThrowsError(try step()) { error in
            guard case NeuralError.nonFiniteLoss(step: 0, _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(model.parameters.map(\.value), before, "no weight changed")
        images[3 * s * s] = 0.5
        XCTAssertNoThrow(try step())
    }
}
