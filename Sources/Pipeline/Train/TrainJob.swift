import Cluster
import Foundation
import Imaging
import Neural
import Storage

/// Settings of one `netosis train` run: the flags as given (nil = not given) and the run
/// configuration file they override.
public struct TrainOptions: Sendable {
    public var flags: TrainSettings
    /// YAML run configuration (`--config`), keys as the flags.
    public var config: String?

    public init(flags: TrainSettings, config: String? = nil) { self.flags = flags; self.config = config }
}

/// What a training run did (rank 0).
public struct TrainSummary: Sendable {
    public var epochsRun: Int
    public var steps: Int
    public var history: [EpochRecord]
    public var resumedFrom: String?
    public var stoppedEarly: Bool
    public var lastCheckpoint: String
}

/// `netosis train`: data-parallel training (DDP semantics) with checkpoints and exact resume.
///
/// Every rank holds a full replica. Rank 0 resolves the settings and broadcasts them, then the
/// initial weights, BatchNorm buffers and optimizer state, so replicas start identical. Each epoch
/// the training split is shuffled by (seed, epoch) and rank r takes every N-th patch from r; a
/// global batch of B patches is B/N on each rank, and the last partial global batch is dropped, so
/// the batches are the same sets of patches whatever N is. Per step: forward/backward on the
/// rank's part, one flat in-place all-reduce of the gradients (averaged) *and* of the BatchNorm
/// running statistics (averaged, so every replica keeps the same buffers), the same update on
/// every rank. Batch statistics inside a forward are per rank (B/N patches), as in PyTorch DDP
/// without SyncBatchNorm: with N > 1 the result differs from one rank by that. `--sync-bn`
/// all-reduces the BatchNorm sums in forward and backward, so N ranks compute what one rank with
/// the whole batch would (up to summation order).
public enum TrainJob {
    @discardableResult
    public static func run(_ options: TrainOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> TrainSummary? {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        // Rank 0 resolves the configuration (flags over YAML over defaults); every rank uses its copy.
        var resolved = rank == 0 ? try TrainSettings.resolve(flags: options.flags, config: options.config) : nil
        if let world, size > 1 { resolved = try world.broadcast(resolved) }
        let settings = resolved!

        // Inputs, checked before any work (every rank reads the data; the checks are the same everywhere).
        let data = try TrainingData.open(settings)
        var modelConfig = try ModelConfig.load(settings.model)
        if case let .patches(dataset) = data, modelConfig.acceptsAnyInputSize,
           (dataset.height, dataset.width) != (modelConfig.inputSize, modelConfig.inputWidth) {
            // A ResNet trains at the tiles' size (its preset's size is the paper's 480×640).
            modelConfig = modelConfig.with(inputSize: dataset.height, width: dataset.width)
        }
        if let initFrom = settings.initFrom {
            let other = try WeightIO.config(atPath: initFrom)
            guard other.architecture == modelConfig.architecture, other.name == modelConfig.name
                    || other.with(numClasses: modelConfig.numClasses) == modelConfig || other.sharesBody(with: modelConfig) else {
                throw TrainError("\(initFrom): --init checkpoint holds \(other.architecture) '\(other.name)', not the model being trained "
                                 + "(\(modelConfig.architecture) '\(modelConfig.name)')")
            }
        }
        try checkData(data, settings: settings, model: modelConfig, ranks: size)
        let classes = modelConfig.numClasses
        let trainCount = data.trainCount
        let stepsPerEpoch = trainCount / settings.batchSize
        let perRank = settings.batchSize / size

        // The output folder and where to start from (rank 0 decides; every rank learns the result).
        var start: Start? = nil
        if rank == 0 {
            try prepareFolder(settings.out, data: settings.data)
            start = try findStart(settings, warn: warn)
        }
        if let world, size > 1 { start = try world.broadcast(start) }
        var state = TrainingState(globalBatch: settings.batchSize, worldSize: size, seed: settings.seed,
                                  configuration: settings.json())
        var history: [EpochRecord] = []
        if let from = start?.checkpoint {
            // The checkpoint's model (and its class count) wins over --model: it is the run being continued.
            modelConfig = try WeightIO.config(atPath: from)
            state = start!.state!
            history = start!.history
            guard state.globalBatch == settings.batchSize, state.seed == settings.seed else {
                throw TrainError("\(from): was trained with global batch \(state.globalBatch) and seed \(state.seed); "
                                 + "resume with --batch-size \(state.globalBatch) --seed \(state.seed), or start afresh with --resume never and another --out")
            }
            state.worldSize = size
            state.configuration = settings.json()
        }

        let model = try modelConfig.makeModel(seed: settings.seed)
        try FineTuning.check(settings, model: model)
        let optimizer = makeOptimizer(settings, stepsPerEpoch: stepsPerEpoch)
        let fineTuning = FineTuning(settings: settings, stepsPerEpoch: stepsPerEpoch)
        var fineTuningPhase = -1
        if rank == 0 {
            if let from = start?.checkpoint {
                try WeightIO.loadWeights(into: model, path: from)
                try WeightIO.loadOptimizer(optimizer, model: model, path: from)
                log("train: resuming from \(from) at epoch \(state.epoch + 1), step \(state.step) (batch \(state.position) of the epoch)")
            } else if let initFrom = settings.initFrom {
                try loadInit(model, from: initFrom, log: log)
            }
        }
        var outerSync: (ranks: Int, reduce: (UnsafeMutablePointer<Double>, Int) -> Void)?
        if let world, size > 1 {
            try broadcastState(model: model, optimizer: optimizer, world: world)
            if settings.syncBN {
                outerSync = (size, { values, count in
                    do { try world.allReduce(UnsafeMutableBufferPointer(start: values, count: count), .sum) }
                    catch { world.abort(message: "BatchNorm all-reduce failed at step \(optimizer.step + 1): \(error)") }
                })
            }
        }
        // The rank's share of each batch is split over its threads, each a model replica acting as a
        // rank of its own (rank·T + t of size·T); BatchNorm statistics stay the rank's whole share's.
        let threads = replicaCount(perRank: perRank, team: ThreadTeam.shared.size)
        try checkMemory(model, perRank: perRank, replicas: threads, world: world)
        let trainer = try ReplicatedTraining(model, team: ThreadTeam.shared, count: threads, outer: outerSync)
        let perReplica = perRank / threads

        let task = try data.task(settings, model: modelConfig, perRank: perReplica, log: log, rank: rank)
        let sampleFloats = task.height * task.width * task.channels
        // One input buffer per replica; the first also holds validation batches.
        var inputs = (0..<threads).map { [Float](repeating: 0, count: ($0 == 0 ? max(perReplica, task.validationBatch) : perReplica) * sampleFloats) }
        // The ranks' mean of gradients and running statistics before each update (overlapped with
        // backward when a rank runs one replica).
        let exchange = size > 1 ? GradientExchange(model: model, world: world!, replicas: threads, syncBN: settings.syncBN) : nil
        // Time in the gradient exchange outside backward (pack, wait, unpack) vs in steps, for the closing line.
        var stepSeconds = 0.0
        // Where the loop's wall time goes (reported at the end): what the loop costs over `bench`'s bare steps.
        var loadSeconds = 0.0, validationSeconds = 0.0, checkpointSeconds = 0.0
        let allReduce: (([Parameter]) throws -> Void)? = exchange.map { exchange in { _ in try exchange.finish() } }
        func compareChecksums() throws {
            guard let world, size > 1 else { return }
            let mine = TrainingCheckpoint.checksum(model.stateTensors)
            let all = try world.allGather(mine)
            let differing = all.indices.filter { all[$0] != all[0] }
            if !differing.isEmpty {
                throw TrainError("replicas diverged at step \(state.step): the weights of rank(s) "
                                 + differing.map(String.init).joined(separator: ", ") + " differ from rank 0's "
                                 + "(checksums " + all.map { String($0, radix: 16) }.joined(separator: ", ") + ")")
            }
        }
        func checkpoint() throws -> String {
            try compareChecksums()
            let path = settings.out + "/ckpt-\(state.step).h5"
            if rank == 0 {
                try FaultPoint.pass("train-checkpoint")
                try save(model, optimizer: optimizer, state: state, history: history, classes: classes, perOutput: task.perOutputMetric, to: path)
                try prune(settings.out, keep: settings.keep)
            }
            return path
        }

        if rank == 0 {
            let unit = settings.task == .count ? "images' maps" : "patches"
            var extra = ""
            if case let .maps(_, files) = data, !files.isEmpty {
                extra = " (\(files.reduce(0) { $0 + $1.count }) of them from --also-train)"
            }
            log("train: \(modelConfig.name) (\(model.parameterCount) parameters) on \(trainCount) training \(unit)\(extra), "
                + "\(task.validationCount) validation; \(size) rank\(size == 1 ? "" : "s") × \(perRank) = global batch "
                + "\(settings.batchSize)" + (threads > 1 ? " (each rank's share on \(threads) threads × \(perReplica))" : "")
                + ", \(stepsPerEpoch) steps per epoch")
        }
        var lastCheckpoint = start?.checkpoint ?? ""
        Preemption.install()
        var stoppedEarly = false
        let firstEpoch = state.epoch, firstStep = state.step
        let loopStarted = Date()
        while state.epoch < settings.epochs {
            let epochStarted = Date()
            let secondsBefore = state.epochSeconds
            var lossSum = 0.0, correct = 0, seen = 0   // this rank, this session
            while state.position < stepsPerEpoch {
                let loadStarted = Date()
                var counts = [Int](repeating: 0, count: threads)
                for t in 0..<threads {
                    counts[t] = try inputs[t].withUnsafeMutableBufferPointer {
                        try task.fill(batch: state.position, epoch: state.epoch, rank: rank * threads + t, worldSize: size * threads,
                                      into: $0, slot: t)
                    }
                }
                let n = counts.reduce(0, +)
                loadSeconds += Date().timeIntervalSince(loadStarted)
                if FaultPoint.fires("train-nan-rank\(rank)") { inputs[0][0] = .nan }   // test-only (NETOSIS_FAULT)
                if fineTuning.isUsed, fineTuning.phase(at: state.step) != fineTuningPhase {
                    fineTuningPhase = fineTuning.phase(at: state.step)
                    let line = fineTuning.apply(to: optimizer, model: model, at: state.step)
                    if rank == 0 { log(line) }
                }
                let results: [(loss: Double, correct: Int)]
                let stepStarted = Date()
                defer { stepSeconds += Date().timeIntervalSince(stepStarted) }
                do {
                    let step = state.step
                    results = try trainer.step(optimizer: optimizer, beforeUpdate: allReduce) { replica, t in
                        replica.setRandomStream(step: step, firstSample: rank * threads + t, sampleStride: size * threads)
                        return try inputs[t].withUnsafeBufferPointer {
                            try task.gradients(replica, input: $0.baseAddress!, count: counts[t], slot: t, step: step)
                        }
                    }
                } catch NeuralError.nonFiniteLoss(_, let value) {
                    throw TrainError("rank \(rank), step \(state.step + 1) (epoch \(state.epoch + 1), batch \(state.position + 1)): "
                                     + "the loss is \(value) (not finite); lower --lr or check the input data")
                }
                for (t, result) in results.enumerated() {
                    lossSum += result.loss * Double(counts[t]); correct += result.correct
                }
                seen += n
                state.step += 1
                state.position += 1
                if FaultPoint.fires("train-diverge-rank\(rank)") { model.parameters[0].value[0] += 1 }   // test-only
                if settings.checksumEvery > 0, state.step % settings.checksumEvery == 0 { try compareChecksums() }
                progress(state.position, stepsPerEpoch)
                // Mid-epoch checkpoints carry the epoch's running sums, so a resumed epoch reports
                // the same totals as an uninterrupted one.
                func checkpointMidEpoch() throws {
                    var sums = [lossSum, Double(correct), Double(seen)]
                    if let world, size > 1 { try world.allReduce(&sums, .sum) }
                    let saved = state
                    state.epochLossSum += sums[0]; state.epochCorrect += Int(sums[1]); state.epochSeen += Int(sums[2])
                    state.epochSeconds = secondsBefore + Date().timeIntervalSince(epochStarted)
                    lastCheckpoint = try checkpoint()
                    state.epochLossSum = saved.epochLossSum; state.epochCorrect = saved.epochCorrect; state.epochSeen = saved.epochSeen
                }
                if FaultPoint.fires("train-usr1-rank\(rank)") { kill(getpid(), SIGUSR1) }   // test-only (NETOSIS_FAULT)
                if FaultPoint.fires("train-kill-rank\(rank)") { kill(getpid(), SIGKILL) }   // test-only: a node dies
                if state.position < stepsPerEpoch {
                    let signal = try Preemption.agreed(world)
                    if signal != 0 {
                        try checkpointMidEpoch()
                        throw RequeueRequest("train: \(Preemption.name(signal)) at step \(state.step) (epoch \(state.epoch + 1), batch "
                                             + "\(state.position) of \(stepsPerEpoch)); saved \(lastCheckpoint); stopping with status "
                                             + "\(RequeueRequest.exitStatus) so the job can be requeued (resume: rerun with --resume auto)")
                    }
                    if settings.checkpointEvery > 0, state.step % settings.checkpointEvery == 0 { try checkpointMidEpoch() }
                }
            }
            // Epoch totals over ranks, then validation (each validation patch counted once).
            var sums = [lossSum, Double(correct), Double(seen)]
            if let world, size > 1 { try world.allReduce(&sums, .sum) }
            let trainLoss = (state.epochLossSum + sums[0]) / Double(max(1, state.epochSeen + Int(sums[2])))
            let trainAccuracy = settings.task == .count ? .nan
                : Double(state.epochCorrect + Int(sums[1])) / Double(max(1, state.epochSeen + Int(sums[2])))
            let validationStarted = Date()
            let val = try task.validate(model, rank: rank, size: size, world: world, input: &inputs[0])
            validationSeconds += Date().timeIntervalSince(validationStarted)
            let seconds = secondsBefore + Date().timeIntervalSince(epochStarted)
            let record = EpochRecord(epoch: state.epoch + 1, trainLoss: trainLoss, trainAccuracy: trainAccuracy,
                                     valLoss: val.loss, valAccuracy: val.accuracy, valRecall: val.perOutput,
                                     learningRate: optimizer.schedule.rate(at: max(0, state.step - 1)),
                                     imagesPerSecond: Double(stepsPerEpoch * settings.batchSize) / max(seconds, 1e-9),
                                     seconds: seconds)
            history.append(record)
            state.epoch += 1; state.position = 0
            state.epochLossSum = 0; state.epochCorrect = 0; state.epochSeen = 0; state.epochSeconds = 0
            // Early stopping on the validation loss (the training loss when there is no validation split).
            let monitored = val.loss.isNaN ? trainLoss : val.loss
            var improved = false
            if monitored < state.bestValLoss { state.bestValLoss = monitored; state.badEpochs = 0; improved = true }
            else { state.badEpochs += 1 }
            let checkpointStarted = Date()
            lastCheckpoint = try checkpoint()
            if improved, rank == 0 {
                try save(model, optimizer: optimizer, state: state, history: history, classes: classes, perOutput: task.perOutputMetric,
                         to: settings.out + "/best.h5")
            }
            checkpointSeconds += Date().timeIntervalSince(checkpointStarted)
            if rank == 0 {
                try AtomicFile.writeBytes(Data(TrainingCheckpoint.csv(history, classNames: task.outputNames, perOutput: task.perOutputMetric).utf8),
                                          to: settings.out + "/history.csv")
                let remaining = Double(settings.epochs - state.epoch) * seconds
                log(String(format: "epoch %d/%d  loss %.4f  acc %@  val_loss %@  val_acc %@  lr %.3g  %.0f img/s  %.1f s  ETA %.0f s",
                           state.epoch, settings.epochs, trainLoss, trainAccuracy.isNaN ? "—" : String(format: "%.3f", trainAccuracy),
                           val.loss.isNaN ? "—" : String(format: "%.4f", val.loss),
                           val.accuracy.isNaN ? "—" : String(format: "%.3f", val.accuracy),
                           record.learningRate, record.imagesPerSecond, seconds, remaining))
            }
            let signal = try Preemption.agreed(world)
            if signal != 0, state.epoch < settings.epochs {
                throw RequeueRequest("train: \(Preemption.name(signal)) at the end of epoch \(state.epoch); saved \(lastCheckpoint); "
                                     + "stopping with status \(RequeueRequest.exitStatus) so the job can be requeued (resume: rerun with --resume auto)")
            }
            if settings.patience > 0, state.badEpochs >= settings.patience, state.epoch < settings.epochs {
                if rank == 0 { log("train: early stopping after epoch \(state.epoch): no better validation loss for \(settings.patience) epochs") }
                stoppedEarly = true
                break
            }
        }
        // Every rank reaches here (early stopping is decided from all-reduced numbers).
        var cost = [exchange?.seconds ?? 0, stepSeconds, Benchmark.peakRSSMegabytes()]
        var loop = [Date().timeIntervalSince(loopStarted), stepSeconds, loadSeconds, validationSeconds, checkpointSeconds]
        if let world, size > 1 {
            var sums = [cost[0], cost[1]]
            try world.allReduce(&sums, .sum)
            let peak = try world.allReduce(cost[2], .max)
            cost = [sums[0], sums[1], peak]
            try world.allReduce(&loop, .sum)
        }
        guard rank == 0 else { return nil }
        if loop[0] > 0 {
            // Steps are what `netosis bench --mode train` times; everything else is the loop's own cost.
            let share = loop.map { 100 * $0 / loop[0] }
            let stepRate = Double((state.step - firstStep) * settings.batchSize) / max(loop[1] / Double(size), 1e-9)
            log(String(format: "train: loop time %.1f s%@: steps %.1f%% (%.1f img/s while stepping), loading + augmentation %.1f%%, "
                       + "validation %.1f%%, checkpoints %.1f%%, other (checks, progress) %.1f%%", loop[0], size > 1 ? " (summed over ranks)" : "",
                       share[1], stepRate, share[2], share[3], share[4], max(0, 100 - share[1] - share[2] - share[3] - share[4])))
        }
        if size > 1, cost[1] > 0 {
            log(String(format: "train: gradient all-reduce %.1f%% of step time (%.2f s of %.1f s, summed over ranks); peak RSS per rank %.0f MB",
                       100 * cost[0] / cost[1], cost[0], cost[1], cost[2]))
        } else {
            log(String(format: "train: peak RSS %.0f MB", cost[2]))
        }
        // The best model alone (no optimizer state, no history): a third of a checkpoint with Adam,
        // what one shares with another lab or points `screen` at; refreshed at the end of every run.
        let best = settings.out + "/best.h5"
        if FileManager.default.fileExists(atPath: best) {
            try WeightIO.save(try WeightIO.loadModel(path: best), to: settings.out + "/model.h5")
        }
        log("train: \(state.step) steps; checkpoints in \(settings.out) (last \(lastCheckpoint.isEmpty ? "—" : lastCheckpoint)); best model's weights alone in \(settings.out)/model.h5")
        return TrainSummary(epochsRun: state.epoch - firstEpoch, steps: state.step, history: history,
                            resumedFrom: start?.checkpoint, stoppedEarly: stoppedEarly, lastCheckpoint: lastCheckpoint)
    }

    // MARK: pieces

    /// Where a run starts: nil checkpoint = afresh.
    struct Start: Codable {
        var checkpoint: String?
        var state: TrainingState?
        var history: [EpochRecord]
    }

    /// `stepsPerEpoch` sizes a one-cycle schedule (epochs × steps; fastai's shape: 25 % warm, lr/25 →
    /// lr → lr/(25·10⁵), momentum 0.95 → 0.85 → 0.95).
    static func makeOptimizer(_ s: ResolvedTrainSettings, stepsPerEpoch: Int = 1) -> Optimizer {
        let kind: LearningRateSchedule.Kind
        if s.schedule == .oneCycle {
            kind = .oneCycle(totalSteps: max(1, s.epochs * stepsPerEpoch), pctStart: 0.25, divFactor: 25, finalDivFactor: 1e5,
                             baseMomentum: 0.85, maxMomentum: 0.95)
        } else {
            kind = s.lrDecay > 0 ? .timeDecay(decay: s.lrDecay) : .constant
        }
        let schedule = LearningRateSchedule(base: s.lr, kind: kind)
        switch s.optimizer {
        case .sgd: return SGD(schedule: schedule, momentum: Float(s.momentum), weightDecay: Float(s.weightDecay))
        case .adam: return Adam(schedule: schedule, weightDecay: Float(s.weightDecay))
        case .adamw: return Adam(schedule: schedule, weightDecay: Float(s.weightDecay), decoupled: true)
        }
    }

    /// Threads (model replicas) that share a rank's `perRank` samples equally: the most the team has
    /// that divide them.
    static func replicaCount(perRank: Int, team: Int) -> Int {
        (1...max(1, min(team, perRank))).last { perRank % $0 == 0 } ?? 1
    }

    /// The refusals that come before any work, each one line.
    static func checkData(_ data: TrainingData, settings: ResolvedTrainSettings, model: ModelConfig, ranks: Int) throws {
        let path = settings.data
        switch data {
        case let .patches(dataset):
            guard dataset.classNames.count == model.numClasses else {
                throw TrainError("\(path): holds \(dataset.classNames.count) classes (\(dataset.classNames.joined(separator: ", "))) "
                                 + "but model '\(model.name)' has num_classes \(model.numClasses)")
            }
            guard dataset.height == model.inputSize, dataset.width == model.inputWidth, dataset.channels == model.inputChannels else {
                throw TrainError("\(path): samples are \(dataset.height)×\(dataset.width)×\(dataset.channels) but model '\(model.name)' expects "
                                 + "\(model.inputSize)×\(model.inputWidth)×\(model.inputChannels) (input_size, input_channels)")
            }
            _ = try BatchLoader.Normalization.of(model, for: dataset)
        case let .maps(maps, _):
            if let problem = maps.mismatch(with: model) { throw TrainError(problem) }
        }
        let train = data.trainCount
        let unit = data.unit
        guard train > 0 else { throw TrainError("\(path): the training split is empty (no \(unit) has /split = 0)") }
        let b = settings.batchSize
        guard b >= ranks else { throw TrainError("--batch-size \(b) is smaller than the \(ranks) ranks (each rank needs at least one \(unit) per step)") }
        guard b % ranks == 0 else {
            let lower = b / ranks * ranks, upper = lower + ranks
            throw TrainError("--batch-size \(b) (global) does not divide over \(ranks) ranks; use \(lower) or \(upper)")
        }
        guard train >= b else {
            throw TrainError("\(path): the training split holds \(train) \(unit)s, fewer than one global batch (--batch-size \(b))")
        }
    }

    /// Each of the rank's `replicas` holds its own weights, gradients and activations for its share.
    static func checkMemory(_ model: any Model, perRank: Int, replicas: Int, world: Communicator?) throws {
        let (h, w, c) = (model.inputSize, model.inputWidth, model.inputChannels)
        try MemoryBudget.current(world: world).check(batchSize: perRank, for: "training \(model.name) at \(h)×\(w)") { batch in
            let share = (batch + replicas - 1) / replicas
            return Double(replicas) * model.memoryBytes(batch: share, height: h, width: w, training: true)
                + 2 * 4 * Double(batch * h * w * c)
        }
    }

    /// DIR exists (made if missing) and is a folder; never the data file.
    static func prepareFolder(_ out: String, data: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw OutputError(path: out, problem: "is a file; --out names a folder for checkpoints") }
        } else {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            catch { throw OutputError(path: out, problem: "cannot create the folder (\(error.localizedDescription))") }
        }
        guard access(out, W_OK) == 0 else { throw OutputError(path: out, problem: "folder is not writable") }
        _ = TemporaryFiles.removeStale(besides: out + "/best.h5")
    }

    /// Checkpoints in DIR, newest first (by step).
    public static func checkpoints(in out: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("ckpt-"), name.hasSuffix(".h5"), let step = Int(name.dropFirst(5).dropLast(3)) else { return nil }
            return (step, out + "/" + name)
        }.sorted { $0.0 > $1.0 }.map(\.1)
    }

    /// The checkpoint to continue from: --resume PATH, or (auto) the newest one in DIR that loads
    /// completely; a damaged one is reported by name and the one before it is tried.
    static func findStart(_ settings: ResolvedTrainSettings, warn: (String) -> Void) throws -> Start {
        let existing = checkpoints(in: settings.out)
        switch settings.resume {
        case .never:
            if let newest = existing.first {
                throw TrainError("\(newest): --out already holds checkpoints of a run; continue it with --resume auto, or use another --out")
            }
            return Start(checkpoint: nil, state: nil, history: [])
        case let .path(path):
            return try load(path, settings)
        case .auto:
            for path in existing {
                do { return try load(path, settings) } catch {
                    warn("\(path): not usable (\(error)); trying the previous checkpoint")
                }
            }
            // Checkpoints there but none usable: never start afresh over a run's folder silently.
            if !existing.isEmpty {
                throw TrainError("\(settings.out): none of its \(existing.count) checkpoints can be resumed (see the warnings); "
                                 + "resume from a named one with --resume PATH, or start afresh with --resume never and another --out")
            }
            return Start(checkpoint: nil, state: nil, history: [])
        }
    }

    /// Reads a checkpoint completely (every tensor through its checksum) before trusting it.
    static func load(_ path: String, _ settings: ResolvedTrainSettings) throws -> Start {
        guard let (state, history) = try TrainingCheckpoint.read(path: path) else {
            throw TrainError("\(path): holds weights but no training state (/state); use it with --init to fine-tune")
        }
        let model = try WeightIO.loadModel(path: path)
        try WeightIO.loadOptimizer(makeOptimizer(settings), model: model, path: path)
        return Start(checkpoint: path, state: state, history: history)
    }

    static func loadInit(_ model: any Model, from path: String, log: (String) -> Void) throws {
        let other = try WeightIO.config(atPath: path)
        let sameHead = other.with(inputSize: model.inputSize, width: model.inputWidth).with(numClasses: model.numClasses) == model.modelConfig
        if other.numClasses == model.numClasses && (sameHead || !other.acceptsAnyInputSize) {
            try WeightIO.loadWeights(into: model, path: path, sumStemChannels: true)
            log("train: initial weights from \(path)")
            return
        }
        // Another class count: every tensor but the classifier's, which keeps its fresh initialisation.
        let donor = try other.makeModel()
        try WeightIO.loadWeights(into: donor, path: path, sumStemChannels: true)
        let byName = Dictionary(uniqueKeysWithValues: donor.stateTensors.map { ($0.name, $0) })
        var skipped: [String] = []
        for t in model.stateTensors {
            if let d = byName[t.name], d.shape == t.shape { t.value = d.value } else { skipped.append(t.name) }
        }
        let why = other.numClasses == model.numClasses ? "its classifier is another head" : "its classifier has \(other.numClasses) classes, not \(model.numClasses)"
        log("train: initial weights from \(path); \(why): re-initialised \(skipped.joined(separator: ", "))")
    }

    /// Rank 0's weights, BatchNorm buffers and optimizer state to every rank.
    static func broadcastState(model: any Model, optimizer: Optimizer, world: Communicator) throws {
        var flat: [Float] = world.rank == 0 ? model.stateTensors.flatMap(\.value) : [Float](repeating: 0, count: model.stateTensors.reduce(0) { $0 + $1.count })
        try world.broadcast(&flat)
        var offset = 0
        for t in model.stateTensors { t.value = Array(flat[offset ..< offset + t.count]); offset += t.count }
        let layout: [String: Int]? = world.rank == 0
            ? Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.values.count) }) : nil
        let names = try world.broadcast(layout.map { $0.keys.sorted() })
        let counts = try world.broadcast(layout.map { l in l.keys.sorted().map { l[$0]! } })
        let step = try world.broadcast(world.rank == 0 ? optimizer.step : nil)
        var values: [Float] = world.rank == 0
            ? optimizer.stateTensors().sorted { $0.name < $1.name }.flatMap(\.values) : [Float](repeating: 0, count: counts.reduce(0, +))
        try world.broadcast(&values)
        if world.rank != 0 {
            var o = 0
            for (name, count) in zip(names, counts) {
                try optimizer.loadStateTensor(name: name, values: Array(values[o ..< o + count])); o += count
            }
            optimizer.step = step
        }
    }

    static func save(_ model: any Model, optimizer: Optimizer, state: TrainingState, history: [EpochRecord],
                     classes: Int, perOutput: String, to path: String) throws {
        try WeightIO.save(model, to: path, optimizer: optimizer) { file in
            try TrainingCheckpoint.write(state: state, history: history, classes: classes, perOutput: perOutput, into: file)
        }
    }

    /// Keeps the newest `keep` ckpt-*.h5 (best.h5 is never removed).
    static func prune(_ out: String, keep: Int) throws {
        for old in checkpoints(in: out).dropFirst(keep) { unlink(old) }
    }

    /// The validation split's score: loss (unweighted cross-entropy, or mean absolute error for
    /// counts), accuracy (NaN for counts) and one value per output (recall per class, mean absolute
    /// error per count). Rank r scores every N-th sample from r, so each counts once. NaN when there is none.
    struct Validation { var loss: Double; var accuracy: Double; var perOutput: [Double] }
}

/// A failure of a training run that stops it (one line).
public struct TrainError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
