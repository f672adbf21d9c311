import Analysis
import Cluster
import Foundation
import Imaging
import Neural
import Storage

/// Settings of one `netosis screen` run.
public struct ScreenOptions: Sendable {
    public var checkpoint: String
    /// A folder of images (fields grouped into wells) or a manifest CSV `plate,well,field,path`.
    public var input: String
    public var output: String
    public var batchSize: Int
    public var segmentation: SegmentationConfig
    public var wells: WellConfig
    public var normalization: PatchNormalization
    /// Screen images whose earlier row is `failed` again (ok rows are never redone).
    public var retryFailed: Bool
    /// Start afresh: drop every earlier row of OUT (and its journal).
    public var overwrite: Bool
    /// Plate-map CSV checked up front and kept in results.h5 (`/platemap`) for export and the analyses.
    public var plateMap: String?
    /// `ol` (a network classifies each nucleus' patch; `checkpoint` is a netosis.checkpoint) or `rule`
    /// (the ImageJ solidity rule; `checkpoint` is a netosis.rule file from `calibrate-rule`, and the
    /// rule's own segmentation replaces `segmentation`).
    public var method: ScreenMethodName = .ol
    /// With `pl`: the stage-2 checkpoint (`checkpoint` is then stage 1's).
    public var stage2: String?

    public init(checkpoint: String, input: String, output: String, batchSize: Int = 64,
                segmentation: SegmentationConfig = .standard, wells: WellConfig = .standard,
                normalization: PatchNormalization = .zscore, retryFailed: Bool = false, overwrite: Bool = false,
                plateMap: String? = nil) {
        self.checkpoint = checkpoint; self.input = input; self.output = output; self.batchSize = batchSize
        self.segmentation = segmentation; self.wells = wells; self.normalization = normalization
        self.retryFailed = retryFailed; self.overwrite = overwrite; self.plateMap = plateMap
    }
}

/// The classification methods `screen --method` offers.
public enum ScreenMethodName: String, CaseIterable, Codable, Sendable {
    case ol, rule, pl
}

/// What a run did (rank 0; other ranks get zeros).
public struct ScreenSummary: Codable, Sendable {
    public var images = 0
    public var alreadyDone = 0
    public var screened = 0
    public var failed = 0
    public var nuclei = 0
    public var seconds = 0.0
    /// Counts per class over the images screened in this run.
    public var counts = [0, 0, 0]
    /// Seconds spent reading, segmenting, classifying, summed over the images (and so over ranks).
    public var stageSeconds = [0.0, 0.0, 0.0]
    /// True if a signal ended the run before every image was screened (exit 75, requeue).
    public var interrupted = false
}

/// `netosis screen`: segment and classify every image of a plate set into results.h5, exactly once
/// and crash-safe (docs/file-formats.md "results.h5", docs/screening.md).
///
/// Rank 0 checks everything, takes the lock, replays the journal of an interrupted run, then hands
/// out the images still to do (`WorkQueue`); every finished image is fsynced into the journal before
/// it counts. At the end results.h5 is rewritten whole and atomically from the earlier rows and the
/// journal, and the journal is removed. A SIGKILL at any moment loses at most the images in flight.
public enum ScreenJob {
    public static func run(_ options: ScreenOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           status: @escaping (_ done: Int, _ total: Int, _ detail: String) -> Void = { _, _, _ in }) throws -> ScreenSummary {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let started = Date()
        // Every rank loads the model or rule (a bad file fails on rank 0 first, with its message).
        let method: ScreenMethod, segmentation: SegmentationConfig, description: String, modelJSON: String, patchSize: Int
        switch options.method {
        case .ol:
            if SolidityRule.isRuleFile(options.checkpoint) {
                throw FileFormatError(path: options.checkpoint, problem: "is a rule file (\(SolidityRule.formatName)), not a checkpoint; screen with it by --method rule")
            }
            let model = try WeightIO.loadModel(path: options.checkpoint)
            try checkModel(model, path: options.checkpoint)
            try InferJob.checkMemory(model, batchSize: options.batchSize, world: world)
            method = .network(PatchClassifier(model: model, normalization: options.normalization, batchSize: options.batchSize))
            segmentation = options.segmentation
            description = "model \(model.name)"
            modelJSON = String(decoding: try ResultsFile.encoder().encode(model.modelConfig), as: UTF8.self)
            patchSize = model.inputSize
        case .rule:
            let rule = try SolidityRule.read(options.checkpoint)
            method = .rule(rule)
            segmentation = rule.segmentation
            description = String(format: "rule: NETotic when solidity %@ %.4f", rule.netoticBelow ? "<" : "≥", rule.solidityThreshold)
            modelJSON = String(decoding: try rule.json(), as: UTF8.self)
            patchSize = 0
        case .pl:
            guard let stage2 = options.stage2 else {
                throw ScreenError("--method pl needs --stage2 (the count model of `train --task count`); --checkpoint is stage 1")
            }
            let counter = try PixelLevelCounter(stage1: options.checkpoint, stage2: stage2)
            method = .pixelLevel(counter)
            segmentation = options.segmentation
            description = "PL counter: stage 1 \(counter.stage1.pass.net.name), stage 2 \(counter.stage2.name)"
            modelJSON = try counter.json()
            patchSize = counter.stage1.window
        }
        if options.method != .pl, let stage2 = options.stage2 {
            throw ScreenError("--stage2 \(stage2) is for --method pl")
        }
        let memory = ImageMemory(try MemoryBudget.current(world: world))
        Preemption.install()
        func makeWorker() -> ScreenWorker {
            ScreenWorker(method: method, segmenter: Segmenter(config: segmentation), grid: options.wells.grid, memory: memory,
                         checkpointID: "", rank: rank)
        }
        guard rank == 0 else {
            let worker = makeWorker()
            // Wait for rank 0's checks (a refusal there aborts the job through RankGuard).
            let go: Bool = try world!.broadcast(nil as Bool?, root: 0)
            guard go else { return ScreenSummary() }
            let id: String = try world!.broadcast(nil as String?, root: 0)
            let identified = ScreenWorker(method: worker.method, segmenter: worker.segmenter, grid: worker.grid,
                                          memory: memory, checkpointID: id, rank: rank)
            try WorkQueue.serve(world: world!, worker: identified)
            return ScreenSummary()
        }

        // Rank 0: inputs, output, lock, earlier rows.
        let items = try ScreenWorkList.scan(options.input, wells: options.wells)
        var plateMap = try options.plateMap.map { try Self.readPlateMap($0, items: items, warn: warn) }
        let output = try OutputFile.check(options.output, kind: "results file (\(ResultsFile.format.name))",
                                          inputs: [options.checkpoint] + (options.stage2.map { [$0] } ?? []) + items.flatMap(\.paths), overwrite: true) {
            ResultsFile.format.isFormat(of: $0)
        }
        guard var sha = SHA256.ofFile(options.checkpoint) else {
            throw FileFormatError(path: options.checkpoint, problem: "cannot be read to compute its checksum")
        }
        if let stage2 = options.stage2 {
            // The PL counter is both checkpoints: its identity is the digest of their digests.
            guard let sha2 = SHA256.ofFile(stage2) else {
                throw FileFormatError(path: stage2, problem: "cannot be read to compute its checksum")
            }
            var both = SHA256()
            both.update(Data((sha + sha2).utf8))
            sha = both.hexDigest()
        }
        let identity = ScreenIdentity(
            checkpoint: URL(fileURLWithPath: options.checkpoint).path, checkpointSHA256: sha,
            model: modelJSON, segmentation: segmentation, method: options.method.rawValue,
            normalization: options.method == .ol ? options.normalization.rawValue : "none",
            patchSize: patchSize, classes: ScreenClasses.names)
        let lock = ResultsLock(results: options.output)
        try lock.acquire()
        defer { lock.release() }
        let journal = ResultsJournal(path: ResultsJournal.path(for: options.output))
        var rows: [String: ScreenResult] = [:]
        var replay = ResultsJournal.Replay()
        if options.overwrite {
            try? FileManager.default.removeItem(atPath: journal.path)
        } else {
            if output.replaces {
                let earlier = try ResultsFile.read(options.output)
                if let conflict = identity.conflict(with: earlier.identity) {
                    throw OutputError(path: options.output, problem: conflict + "; write to another file, or pass --overwrite to start it afresh")
                }
                for r in earlier.results { rows[r.image.name] = r }
                if plateMap == nil { plateMap = earlier.plateMap }  // kept unless a new one is given
            }
            replay = try ResultsJournal.replay(journal.path)
            if let earlier = replay.identity, let conflict = identity.conflict(with: earlier) {
                throw OutputError(path: journal.path, problem: conflict + " (an interrupted run's journal); finish that run, or pass --overwrite to start afresh")
            }
            for r in replay.results { rows[r.image.name] = r }
            if !replay.results.isEmpty || replay.droppedBytes > 0 {
                log("screen: resuming: \(replay.results.count) image(s) recorded by an interrupted run"
                    + (replay.droppedBytes > 0 ? " (its last, unfinished record of \(replay.droppedBytes) bytes dropped)" : ""))
            }
        }
        try journal.open(after: replay, identity: identity)

        let todo = items.filter { item in
            guard let earlier = rows[item.name]?.image else { return true }
            return !earlier.isOK && options.retryFailed
        }
        var summary = ScreenSummary()
        summary.images = items.count
        summary.alreadyDone = items.count - todo.count
        let skippedFailed = items.filter { rows[$0.name].map { !$0.image.isOK } ?? false }.count
        log("screen: \(items.count) image(s) in \(options.input); \(todo.count) to screen on \(size) rank(s)"
            + (summary.alreadyDone > 0 ? ", \(summary.alreadyDone) already in \(options.output)" : "")
            + (skippedFailed > 0 && !options.retryFailed ? " (\(skippedFailed) failed earlier: --retry-failed screens them again)" : "")
            + "; \(description), checkpoint \(identity.checkpointID)")
        if let world, size > 1 {
            _ = try world.broadcast(true as Bool?, root: 0)
            _ = try world.broadcast(identity.checkpointID as String?, root: 0)
        }

        var worker = makeWorker()
        worker = ScreenWorker(method: worker.method, segmenter: worker.segmenter, grid: worker.grid,
                              memory: memory, checkpointID: identity.checkpointID, rank: 0)
        var done = 0
        try WorkQueue.coordinate(todo, world: world, local: worker, record: { result in
            try journal.append(result)
            rows[result.image.name] = result
            // Tests: Slurm's warning signal at a fixed point of the run.
            if FaultPoint.fires("screen-signal") { kill(getpid(), SIGUSR1) }
            done += 1
            summary.screened += 1
            if !result.image.isOK {
                summary.failed += 1
                warn("\(result.image.error)")
            }
            summary.nuclei += result.objects.count
            for k in 0..<3 { summary.stageSeconds[k] += result.image.stageSeconds[k] }
            for k in 0..<3 { summary.counts[k] += result.image.counts[k] }
            let elapsed = Date().timeIntervalSince(started)
            status(done, todo.count, String(format: "%.0f nuclei/s, %d failed", Double(summary.nuclei) / max(elapsed, 1e-9), summary.failed))
        }, shouldStop: { Preemption.raised != 0 })

        summary.interrupted = done < todo.count
        try FaultPoint.pass("screen-final")
        try output.write { temporary in
            try ResultsFile.write(Array(rows.values), identity: identity, plateMap: plateMap, to: temporary)
        }
        try journal.remove()
        summary.seconds = Date().timeIntervalSince(started)
        for line in report(summary, output: options.output) { log(line) }
        if summary.interrupted {
            throw RequeueRequest("screen: \(Preemption.name(Preemption.raised)) received: \(done) of \(todo.count) image(s) "
                                 + "screened and saved in \(options.output); the same command screens the rest")
        }
        return summary
    }

    /// The plate map's text, refused up front if it does not parse (one line naming file and line);
    /// images whose plate + well it does not list are screened all the same, with a warning.
    static func readPlateMap(_ path: String, items: [ScreenItem], warn: (String) -> Void) throws -> (text: String, path: String) {
        let map = try PlateMap.read(path)
        let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        let unmapped = items.filter { map.entry(plate: $0.plate, well: $0.well) == nil }
        if !unmapped.isEmpty {
            let examples = unmapped.prefix(3).map { "\($0.plate) \($0.well)" }.joined(separator: ", ")
            warn("\(path): \(unmapped.count) of \(items.count) image(s) have no plate-map row (e.g. \(examples)); "
                 + "they are screened, and the analyses leave them out")
        }
        return (text, URL(fileURLWithPath: path).path)
    }

    /// A checkpoint screen can use: three classes in the patches' order, one input channel.
    static func checkModel(_ model: any Model, path: String) throws {
        guard model.numClasses == ScreenClasses.names.count else {
            throw FileFormatError(path: path, problem: "model '\(model.name)' has \(model.numClasses) classes; screen counts "
                                  + "\(ScreenClasses.names.joined(separator: " / ")) and needs a 3-class checkpoint")
        }
        guard model.inputChannels == 1 else {
            throw FileFormatError(path: path, problem: "model '\(model.name)' takes \(model.inputChannels) input channels; "
                                  + "screen cuts 1-channel fluorescence patches")
        }
    }

    static func report(_ s: ScreenSummary, output: String) -> [String] {
        let rate = s.seconds > 0 ? Double(s.nuclei) / s.seconds : 0
        let perHour = s.seconds > 0 ? Double(s.screened) / s.seconds * 3600 : 0
        var lines = [String(format: "screen: %d image(s) screened in %.1f s (%.0f nuclei/s, %.0f images/hour), %d failed, %d already done → %@",
                            s.screened, s.seconds, rate, perHour, s.failed, s.alreadyDone, output)]
        let busy = s.stageSeconds.reduce(0, +)
        if busy > 0 {
            lines.append(String(format: "time per stage (summed over ranks): read %.1f s (%.0f%%), segment %.1f s (%.0f%%), classify %.1f s (%.0f%%)",
                                s.stageSeconds[0], 100 * s.stageSeconds[0] / busy, s.stageSeconds[1], 100 * s.stageSeconds[1] / busy,
                                s.stageSeconds[2], 100 * s.stageSeconds[2] / busy))
        }
        let d = s.counts[1] + s.counts[2]
        if s.nuclei > 0 {
            lines.append(String(format: "objects: %d other, %d non-NETotic, %d NETotic (%.1f%% NETotic)", s.counts[0], s.counts[1],
                                s.counts[2], d > 0 ? 100 * Double(s.counts[2]) / Double(d) : 0))
        }
        return lines
    }
}

/// A screen that cannot start (one line).
struct ScreenError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
