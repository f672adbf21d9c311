import Foundation
import Imaging
import Neural
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// `netosis train` and `netosis evaluate` on densenet-tiny and 360 synthetic 32×32 patches.
final class TrainCommandTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("train") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func flags(data: String, out: String, epochs: Int, batch: Int = 16, resume: ResumeMode? = nil) -> TrainSettings {
        var f = TrainSettings()
        f.data = data; f.out = out; f.model = "densenet-tiny"; f.epochs = epochs; f.batchSize = batch
        f.lr = 0.05; f.seed = 7; f.patience = 0; f.resume = resume
        return f
    }

    func weights(_ checkpoint: String) throws -> [Float] {
        try WeightIO.loadModel(path: checkpoint).stateTensors.flatMap(\.value)
    }

    /// One rank in process: the loss goes down; ckpt-<step>.h5, best.h5 and history.csv are written,
    /// the checkpoint holds /state and /history; only the newest --keep checkpoints stay.
    func testTrainLearnsAndWritesCheckpointsAndHistory() throws {
        let data = path("patches.h5")
        try TrainInputs.patches(data)
        var f = flags(data: data, out: path("run"), epochs: 3)
        f.keep = 2
        var lines: [String] = []
        let summary = try XCTUnwrap(TrainJob.run(TrainOptions(flags: f), log: { lines.append($0) }))
        XCTAssertEqual(summary.epochsRun, 3)
        XCTAssertEqual(summary.steps, 3 * (240 / 16))
        XCTAssertLessThan(summary.history[2].trainLoss, summary.history[0].trainLoss, "\(summary.history)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("epoch ") }.count, 3, lines.joined(separator: "\n"))
        XCTAssertEqual(TrainJob.checkpoints(in: path("run")).map { URL(fileURLWithPath: $0).lastPathComponent },
                       ["ckpt-45.h5", "ckpt-30.h5"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("run/best.h5")))
        let csv = try String(contentsOfFile: path("run/history.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 4)
        XCTAssertTrue(csv[0].hasPrefix("epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate"), String(csv[0]))
        let (state, history) = try XCTUnwrap(TrainingCheckpoint.read(path: path("run/ckpt-45.h5")))
        XCTAssertEqual(state.epoch, 3); XCTAssertEqual(state.step, 45); XCTAssertEqual(state.position, 0)
        XCTAssertEqual(state.globalBatch, 16); XCTAssertEqual(state.worldSize, 1); XCTAssertEqual(state.seed, 7)
        XCTAssertEqual(history, summary.history)
        XCTAssertEqual(history[2].valRecall.count, 3)
        XCTAssertTrue(state.configuration.contains("\"batchSize\":16"), state.configuration)
        let file = try HDF5File.open(path("run/ckpt-45.h5"))
        XCTAssertEqual(try file.attribute("format_version", as: Int32.self), 2)
        XCTAssertEqual(try file.dataset("history/val_recall").shape(), [3, 3])
        // model.h5: best.h5's weights and buffers alone, loadable as a model, with no optimizer state.
        let best = try WeightIO.loadModel(path: path("run/best.h5"))
        let alone = try WeightIO.loadModel(path: path("run/model.h5"))
        XCTAssertEqual(alone.stateTensors.map(\.name), best.stateTensors.map(\.name))
        for (a, b) in zip(alone.stateTensors, best.stateTensors) { XCTAssertEqual(a.value, b.value, a.name) }
        XCTAssertFalse(try HDF5File.open(path("run/model.h5")).exists("optimizer"))
        XCTAssertTrue(try HDF5File.open(path("run/best.h5")).exists("optimizer"))
    }

    /// 2 epochs straight == 1 epoch then a resumed run for the second (same rank count), also from a
    /// mid-epoch checkpoint; a truncated newest checkpoint is reported and the previous one used.
    func testExactResumeAndFallbackFromDamagedCheckpoint() throws {
        let data = path("patches.h5")
        try TrainInputs.patches(data)
        try TrainJob.run(TrainOptions(flags: flags(data: data, out: path("straight"), epochs: 2)), log: { _ in })
        let straight = try weights(path("straight/ckpt-30.h5"))

        try TrainJob.run(TrainOptions(flags: flags(data: data, out: path("split"), epochs: 1)), log: { _ in })
        var log: [String] = []
        let resumed = try XCTUnwrap(TrainJob.run(TrainOptions(flags: flags(data: data, out: path("split"), epochs: 2)),
                                                 log: { log.append($0) }))
        XCTAssertEqual(resumed.resumedFrom, path("split/ckpt-15.h5"))
        XCTAssertEqual(resumed.epochsRun, 1)
        let again = try weights(path("split/ckpt-30.h5"))
        XCTAssertEqual(again.count, straight.count)
        XCTAssertLessThanOrEqual(zip(again, straight).map { abs($0 - $1) }.max()!, 1e-6)
        XCTAssertEqual(resumed.history.map(\.trainLoss), try XCTUnwrap(TrainingCheckpoint.read(path: path("straight/ckpt-30.h5"))).history.map(\.trainLoss))

        // Mid-epoch: checkpoints every 4 steps; resume from step 20 (epoch 2, batch 5).
        var mid = flags(data: data, out: path("mid"), epochs: 2)
        mid.checkpointEvery = 4; mid.keep = 10
        try TrainJob.run(TrainOptions(flags: mid), log: { _ in })
        for step in [24, 28, 30] { unlink(path("mid/ckpt-\(step).h5")) }
        let fromMiddle = try XCTUnwrap(TrainJob.run(TrainOptions(flags: mid), log: { _ in }))
        XCTAssertEqual(fromMiddle.resumedFrom, path("mid/ckpt-20.h5"))
        XCTAssertLessThanOrEqual(zip(try weights(path("mid/ckpt-30.h5")), straight).map { abs($0 - $1) }.max()!, 1e-6)

        // Truncate the newest checkpoint: the run says so and continues from the one before.
        let newest = path("split/ckpt-30.h5")
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: newest)[.size] as? Int)
        XCTAssertEqual(truncate(newest, off_t(size / 2)), 0)
        var warnings: [String] = []
        let fallback = try XCTUnwrap(TrainJob.run(TrainOptions(flags: flags(data: data, out: path("split"), epochs: 2)),
                                                  log: { _ in }, warn: { warnings.append($0) }))
        XCTAssertEqual(fallback.resumedFrom, path("split/ckpt-15.h5"))
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        XCTAssertTrue(warnings.first?.hasPrefix(newest + ": not usable") ?? false, "\(warnings)")
        XCTAssertLessThanOrEqual(zip(try weights(newest), straight).map { abs($0 - $1) }.max()!, 1e-6)

        // Every checkpoint damaged: refused (never a silent fresh start over the run's folder).
        for checkpoint in TrainJob.checkpoints(in: path("split")) { XCTAssertEqual(truncate(checkpoint, 100), 0) }
        XCTAssertThrowsError(try TrainJob.run(TrainOptions(flags: flags(data: data, out: path("split"), epochs: 3)),
                                              log: { _ in }, warn: { _ in })) { error in
            XCTAssertTrue("\(error)".hasPrefix(path("split") + ": none of its 2 checkpoints can be resumed"), "\(error)")
        }
    }

    /// The binary alone and under `mpirun -np 2` with the same global batch: both learn and write
    /// their outputs; the two ranks' replicas stay identical (checksums compared every 5 steps).
    func testTrainAloneAndOnTwoRanks() throws {
        let netosis = try productPath("netosis")
        let data = path("patches.h5")
        try TrainInputs.patches(data)
        let config = path("run.yaml")
        try "model: densenet-tiny\nepochs: 3\nbatch_size: 16\nlr: 0.05\nseed: 7\npatience: 0\nchecksum_every: 5\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        for ranks in [1, 2] {
            let out = path("out-\(ranks)")
            let arguments = ["train", "--config", config, "--data", data, "--out", out]
            let run = ranks == 1 ? try runProgram(netosis, arguments, timeout: 300) : try mpirun(2, netosis, arguments, timeout: 300)
            XCTAssertEqual(run.status, 0, run.output)
            XCTAssertEqual(run.output.components(separatedBy: "epoch ").count - 1, 3, run.output)
            let (state, history) = try XCTUnwrap(TrainingCheckpoint.read(path: out + "/ckpt-45.h5"))
            XCTAssertEqual(state.worldSize, ranks)
            XCTAssertLessThan(history[2].trainLoss, history[0].trainLoss, "\(history)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/best.h5"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/history.csv"))
            // Where the loop's time went: the shares are percentages of the loop's wall time and add up to 100.
            let line = try XCTUnwrap(run.output.split(separator: "\n").first { $0.contains("train: loop time") }, run.output)
            let shares = try NSRegularExpression(pattern: #"([0-9.]+)%"#).matches(in: String(line), range: NSRange(line.startIndex..., in: line))
                .map { Double((String(line) as NSString).substring(with: $0.range(at: 1)))! }
            XCTAssertEqual(shares.count, 5, String(line))
            XCTAssertEqual(shares.reduce(0, +), 100, accuracy: 0.5, String(line))
            XCTAssertGreaterThan(shares[0], 20, "steps are a real share of the loop: \(line)")
        }
    }

    /// evaluate's metrics equal the ones computed here from the model's own predictions, alone and
    /// on two ranks (every test patch counted once), and the JSON holds them.
    func testEvaluateMatchesPredictionsAloneAndOnTwoRanks() throws {
        let netosis = try productPath("netosis")
        let data = path("patches.h5")
        try TrainInputs.patches(data, test: 61)
        try TrainJob.run(TrainOptions(flags: flags(data: data, out: path("run"), epochs: 2)), log: { _ in })
        let checkpoint = path("run/best.h5")
        // Expected: the model's arg-max on each test patch, counted by hand.
        let model = try WeightIO.loadModel(path: checkpoint)
        let dataset = try PatchDataset(path: data)
        let loader = BatchLoader(dataset: dataset, split: .test, batchSize: 61, seed: 0, augment: false, shuffle: false, padShards: false)
        var input = [Float](repeating: 0, count: 61 * 32 * 32), labels: [Int32] = []
        let n = try input.withUnsafeMutableBufferPointer { try loader.fill(batch: 0, epoch: 0, into: $0, labels: &labels) }
        XCTAssertEqual(n, 61)
        let logits = model.predict(Tensor(shape: [n, 32, 32, 1], scalars: input))
        var counts = [[Int]](repeating: [0, 0, 0], count: 3)
        for i in 0..<n {
            let row = Array(logits.scalars[3 * i ..< 3 * i + 3])
            counts[Int(labels[i])][row.firstIndex(of: row.max()!)!] += 1
        }
        for ranks in [1, 2] {
            let json = path("eval-\(ranks).json")
            let arguments = ["evaluate", "--checkpoint", checkpoint, "--data", data, "--split", "test", "--json", json]
            let run = ranks == 1 ? try runProgram(netosis, arguments, timeout: 120) : try mpirun(2, netosis, arguments)
            XCTAssertEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains("balanced accuracy"), run.output)
            let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
            XCTAssertEqual(report.samples, 61)
            XCTAssertEqual(report.confusion, counts)
            let correct = (0..<3).reduce(0) { $0 + counts[$1][$1] }
            XCTAssertEqual(report.accuracy!, Double(correct) / 61, accuracy: 1e-12)
            for c in 0..<3 {
                let support = counts[c].reduce(0, +), predicted = (0..<3).reduce(0) { $0 + counts[$1][c] }
                XCTAssertEqual(report.support[c], support)
                XCTAssertEqual(report.recall[c]!, Double(counts[c][c]) / Double(support), accuracy: 1e-12)
                if predicted > 0 { XCTAssertEqual(report.precision[c]!, Double(counts[c][c]) / Double(predicted), accuracy: 1e-12) }
                XCTAssertEqual(report.confusionRowNormalized[c][c]!, report.recall[c]!, accuracy: 1e-12)
            }
        }
    }

    /// Each bad input is refused before any work with one line (exit 1).
    func testBadInputsAreRefusedWithOneLine() throws {
        let netosis = try productPath("netosis")
        let data = path("patches.h5")
        try TrainInputs.patches(data, train: 30, val: 6, test: 6)
        func refused(_ arguments: [String], ranks: Int = 1, _ expected: String, line: UInt = #line) throws {
            let all = ["train", "--model", "densenet-tiny", "--epochs", "1"] + arguments
            let run = ranks == 1 ? try runProgram(netosis, all, timeout: 120) : try mpirun(ranks, netosis, all)
            XCTAssertEqual(run.status, 1, run.output, line: line)
            XCTAssertTrue(run.output.contains(expected), "'\(expected)' missing in:\n\(run.output)", line: line)
            if ranks == 1 {
                let shown = run.output.split(separator: "\n").filter { !$0.isEmpty }
                XCTAssertEqual(shown.count, 1, run.output, line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("o/history.csv")), line: line)
        }
        // No labels.
        let unlabelled = path("unlabelled.h5")
        try FileManager.default.copyItem(atPath: data, toPath: unlabelled)
        try HDF5File.open(unlabelled, mode: .readWrite).delete("labels")
        try refused(["--data", unlabelled, "--out", path("o")], "\(unlabelled): missing dataset /labels")
        // Class count and patch size against the model.
        let four = path("four.yaml")
        try "name: four\ngrowth_rate: 4\nblock_config: [2, 2]\nbn_size: 2\nnum_init_features: 8\ninput_size: 32\nnum_classes: 4\n"
            .write(toFile: four, atomically: true, encoding: .utf8)
        try refused(["--data", data, "--out", path("o"), "--model", four], "holds 3 classes (other, non-NETotic, NETotic) but model 'four' has num_classes 4")
        try refused(["--data", data, "--out", path("o"), "--model", "densenet-small"], "samples are 32×32×1 but model 'densenet-small' expects 112×112×1")
        // Empty training split.
        let noTrain = path("notrain.h5")
        try TrainInputs.patches(noTrain, train: 0, val: 6, test: 6)
        try refused(["--data", noTrain, "--out", path("o")], "\(noTrain): the training split is empty")
        // Global batch against the ranks.
        try refused(["--data", data, "--out", path("o"), "--batch-size", "1"], ranks: 2, "--batch-size 1 is smaller than the 2 ranks")
        try refused(["--data", data, "--out", path("o"), "--batch-size", "5"], ranks: 2, "--batch-size 5 (global) does not divide over 2 ranks; use 4 or 6")
        // --init of another network.
        let small = path("small.h5")
        try WeightIO.save(try DenseNet(named: "densenet-small"), to: small)
        try refused(["--data", data, "--out", path("o"), "--init", small], "\(small): --init checkpoint holds densenet 'densenet-small', not the model being trained")
    }

    /// The presets in config/train/ resolve; flags win over the file; a YAML problem is one line naming file and key.
    func testRunConfigurationsAndPresets() throws {
        let presets = repositoryRoot().appendingPathComponent("config/train")
        let names = try FileManager.default.contentsOfDirectory(atPath: presets.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(names, ["celldeath-imagenet.yaml", "celldeath.yaml", "paper-ol.yaml", "pl-stage1.yaml", "pl-stage2.yaml", "sample.yaml"])
        var flags = TrainSettings()
        flags.data = "p.h5"; flags.out = "o"; flags.lr = 0.5
        let paper = try TrainSettings.resolve(flags: flags, config: presets.appendingPathComponent("paper-ol.yaml").path)
        XCTAssertEqual(paper.model, "densenet121"); XCTAssertEqual(paper.optimizer, .sgd); XCTAssertEqual(paper.momentum, 0.9)
        XCTAssertEqual(paper.lrDecay, 1e-7); XCTAssertEqual(paper.lr, 0.5, "the flag wins over the file")
        XCTAssertNoThrow(try TrainSettings.resolve(flags: flags, config: presets.appendingPathComponent("sample.yaml").path))
        let stage1 = try TrainSettings.resolve(flags: flags, config: presets.appendingPathComponent("pl-stage1.yaml").path)
        XCTAssertEqual(stage1.task, .classification); XCTAssertEqual(stage1.loss, .ce); XCTAssertFalse(stage1.augment)
        let stage2 = try TrainSettings.resolve(flags: flags, config: presets.appendingPathComponent("pl-stage2.yaml").path)
        XCTAssertEqual(stage2.task, .count); XCTAssertEqual(stage2.loss, .mae); XCTAssertEqual(stage2.model, "pl-stage2")
        var tiles = TrainSettings()
        tiles.data = "tiles.h5"; tiles.out = "o"
        let celldeath = try TrainSettings.resolve(flags: tiles, config: presets.appendingPathComponent("celldeath.yaml").path)
        XCTAssertEqual(celldeath.model, "celldeath-resnet50"); XCTAssertEqual(celldeath.optimizer, .adamw); XCTAssertEqual(celldeath.schedule, .oneCycle)
        XCTAssertEqual(celldeath.lrMin, 1e-4); XCTAssertEqual(celldeath.lr, 1e-3); XCTAssertEqual(celldeath.weightDecay, 0.01)
        XCTAssertNil(celldeath.freezeEpochs); XCTAssertEqual(celldeath.lighting, 0.1)
        let finetune = try TrainSettings.resolve(flags: tiles, config: presets.appendingPathComponent("celldeath-imagenet.yaml").path)
        XCTAssertEqual(finetune.freezeEpochs, 1); XCTAssertEqual(finetune.freezeLR, 0.01); XCTAssertEqual(finetune.epochs, 51)
        // The loss follows the task; a loss that does not suit it is refused in one line.
        var counting = flags
        counting.task = .count
        XCTAssertEqual(try TrainSettings.resolve(flags: counting, config: nil).loss, .mae)
        counting.loss = .ce
        XCTAssertThrowsError(try TrainSettings.resolve(flags: counting, config: nil)) { error in
            XCTAssertTrue("\(error)".contains("a count task learns with loss mae (got ce)"), "\(error)")
        }
        flags.loss = .mae
        XCTAssertThrowsError(try TrainSettings.resolve(flags: flags, config: nil)) { error in
            XCTAssertTrue("\(error)".contains("loss mae is for --task count"), "\(error)")
        }
        flags.loss = nil
        let bad = path("bad.yaml")
        try "epochs: 3\nbatch_sise: 4\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainSettings.resolve(flags: flags, config: bad)) { error in
            XCTAssertTrue("\(error)".hasPrefix(bad + ": "), "\(error)")
            XCTAssertTrue("\(error)".contains("batch_sise"), "\(error)")
        }
        try "class_weights: auto\nmomentum: 2\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainSettings.resolve(flags: flags, config: bad)) { error in
            XCTAssertEqual("\(error)", bad + ": momentum: must be 0.0…1.0 (got 2.0)")
        }
        // One-cycle: lr is the peak, the schedule spans every step of the run; lr_decay does not apply.
        try "schedule: one-cycle\nepochs: 4\noptimizer: adam\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let cycle = try TrainSettings.resolve(flags: flags, config: bad)
        XCTAssertEqual(cycle.schedule, .oneCycle); XCTAssertEqual(cycle.lrDecay, 0)
        let optimizer = TrainJob.makeOptimizer(cycle, stepsPerEpoch: 10)
        XCTAssertEqual(optimizer.schedule.rate(at: 0), 0.5 / 25, accuracy: 1e-12)
        XCTAssertEqual(optimizer.schedule.rate(at: 9), 0.5, accuracy: 1e-12, "the peak after 25 % of 40 steps")
        XCTAssertEqual(optimizer.schedule.rate(at: 39), 0.5 / 25 / 1e5, accuracy: 1e-15)
        XCTAssertEqual(optimizer.schedule.momentum(at: 9), 0.85)
        XCTAssertNil(TrainJob.makeOptimizer(paper).schedule.momentum(at: 0), "time decay leaves momentum alone")
        try "schedule: one-cycle\nlr_decay: 0.001\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainSettings.resolve(flags: flags, config: bad)) { error in
            XCTAssertTrue("\(error)".hasPrefix(bad + ": lr_decay: "), "\(error)")
        }
        try "schedule: cyclic\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainSettings.resolve(flags: flags, config: bad)) { error in
            XCTAssertTrue("\(error)".contains("schedule"), "\(error)")
        }
    }

    /// Equivalence: densenet-tiny, same seed and global batch, 3 steps: with --sync-bn the weights of
    /// -np 1 and -np 2 agree within 1e-5 (relative to each tensor's largest value). Without it each
    /// rank normalises with its own half-batch statistics (DDP semantics), and the weights differ.
    func testSyncBatchNormTwoRanksTrainAsOne() throws {
        let netosis = try productPath("netosis")
        let data = path("patches.h5")
        try TrainInputs.patches(data, train: 48, val: 12, test: 0)
        func train(_ ranks: Int, _ extra: [String]) throws -> [Parameter] {
            let out = path("run-\(ranks)-\(extra.count)")
            let arguments = ["train", "--data", data, "--out", out, "--model", "densenet-tiny", "--epochs", "1",
                             "--batch-size", "16", "--lr", "0.05", "--seed", "3"] + extra
            let run = ranks == 1 ? try runProgram(netosis, arguments, timeout: 120) : try mpirun(2, netosis, arguments)
            XCTAssertEqual(run.status, 0, run.output)
            return try WeightIO.loadModel(path: out + "/ckpt-3.h5").stateTensors
        }
        func largestRelativeDifference(_ a: [Parameter], _ b: [Parameter]) -> Float {
            zip(a, b).map { x, y in
                let scale = max(x.value.map(abs).max()!, 1e-12)
                return zip(x.value, y.value).map { abs($0 - $1) }.max()! / scale
            }.max()!
        }
        let one = try train(1, [])
        let synced = try train(2, ["--sync-bn"]), ddp = try train(2, [])
        print("sync-bn: largest relative weight difference -np 1 vs -np 2: \(largestRelativeDifference(one, synced)) "
              + "with --sync-bn, \(largestRelativeDifference(one, ddp)) without")
        XCTAssertLessThanOrEqual(largestRelativeDifference(one, synced), 1e-5)
        XCTAssertGreaterThan(largestRelativeDifference(one, ddp), 1e-4, "per-rank BatchNorm statistics change the result")
    }

    /// Under mpirun a failing rank ends the job (no hang) naming itself and the step: a non-finite
    /// loss on rank 1 at step 3, and a replica whose weights drifted (caught by the checksum compare).
    func testFailuresOnOneRankAbortTheJobNamingRankAndStep() throws {
        let netosis = try productPath("netosis")
        let data = path("patches.h5")
        try TrainInputs.patches(data, train: 96, val: 12, test: 0)
        let arguments = ["train", "--data", data, "--model", "densenet-tiny", "--epochs", "2", "--batch-size", "16", "--seed", "3"]
        let nan = try mpirun(2, netosis, arguments + ["--out", path("nan")], environment: ["NETOSIS_FAULT": "train-nan-rank1:3:hit"])
        XCTAssertNotEqual(nan.status, 0, nan.output)
        XCTAssertTrue(nan.output.contains("rank 1 of 2 failed: rank 1, step 3 (epoch 1, batch 3): the loss is nan (not finite)"), nan.output)
        let drift = try mpirun(2, netosis, arguments + ["--out", path("drift"), "--config", try yaml("checksum_every: 4\n")],
                               environment: ["NETOSIS_FAULT": "train-diverge-rank1:2:hit"])
        XCTAssertNotEqual(drift.status, 0, drift.output)
        XCTAssertTrue(drift.output.contains("replicas diverged at step 4: the weights of rank(s) 1 differ from rank 0's"), drift.output)
        XCTAssertTrue(TrainJob.checkpoints(in: path("drift")).isEmpty, "no checkpoint from diverged replicas")
    }

    func yaml(_ text: String) throws -> String {
        let file = path("extra-\(text.count).yaml")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A run on 2 ranks resumed on 1 rank (global batch kept) ends where the 2-rank run does, with
    /// --sync-bn within float tolerance.
    func testResumeOnAnotherRankCount() throws {
        let netosis = try productPath("netosis")
        let data = path("patches.h5")
        try TrainInputs.patches(data, train: 48, val: 12, test: 0)
        let base = ["train", "--data", data, "--model", "densenet-tiny", "--batch-size", "16", "--lr", "0.05", "--seed", "3", "--sync-bn"]
        let straight = try mpirun(2, netosis, base + ["--out", path("straight"), "--epochs", "2"])
        XCTAssertEqual(straight.status, 0, straight.output)
        let first = try mpirun(2, netosis, base + ["--out", path("moved"), "--epochs", "1"])
        XCTAssertEqual(first.status, 0, first.output)
        let second = try runProgram(netosis, base + ["--out", path("moved"), "--epochs", "2"], timeout: 120)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("resuming from \(path("moved"))/ckpt-3.h5 at epoch 2, step 3"), second.output)
        let (state, _) = try XCTUnwrap(TrainingCheckpoint.read(path: path("moved/ckpt-6.h5")))
        XCTAssertEqual(state.worldSize, 1)
        let a = try weights(path("straight/ckpt-6.h5")), b = try weights(path("moved/ckpt-6.h5"))
        let scale = a.map(abs).max()!
        XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max()! / scale, 1e-5)
    }

    /// --init: the same network's weights are taken; another class count re-initialises the
    /// classifier and says so.
    func testInitFromCheckpoint() throws {
        let data = path("patches.h5")
        try TrainInputs.patches(data, train: 32, val: 0, test: 0)
        let donor = path("donor.h5")
        var config = DenseNetConfig.presets["densenet-tiny"]!
        config.numClasses = 5
        try WeightIO.save(try DenseNet(config: config, seed: 99), to: donor)
        var f = flags(data: data, out: path("ft"), epochs: 1)
        f.initFrom = donor; f.lr = 0
        var lines: [String] = []
        try TrainJob.run(TrainOptions(flags: f), log: { lines.append($0) })
        XCTAssertTrue(lines.contains { $0.contains("its classifier has 5 classes, not 3: re-initialised classifier/weight, classifier/bias") },
                      lines.joined(separator: "\n"))
        // lr 0: the trained weights are the donor's (BatchNorm running statistics aside).
        let trained = try WeightIO.loadModel(path: path("ft/ckpt-2.h5")), source = try WeightIO.loadModel(path: donor)
        XCTAssertEqual(trained.stateTensors.first { $0.name == "features/conv0/weight" }?.value,
                       source.stateTensors.first { $0.name == "features/conv0/weight" }?.value)
    }
}
