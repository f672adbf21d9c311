import Foundation
import Imaging
import Neural
import Storage

/// adamw: Adam with decoupled weight decay (fastai's default, the celldeath recipe's).
public enum OptimizerKind: String, CaseIterable, Codable, Sendable { case sgd, adam, adamw }
public enum LossKind: String, CaseIterable, Codable, Sendable { case ce, focal, mae }
/// The learning-rate schedule: Keras time decay (`lr_decay`, the paper's), or the one-cycle policy
/// of the celldeath method's fastai recipe (`lr` is the peak; LearningRateSchedule.oneCycle).
public enum ScheduleKind: String, CaseIterable, Codable, Sendable {
    case timeDecay = "time-decay", oneCycle = "one-cycle"
}
/// What a run learns: `classification` of patches (patches.h5), or `count` regression of whole-image
/// maps against their counts (maps.h5, the PL counter's stage 2; loss mae).
public enum TaskKind: String, CaseIterable, Codable, Sendable { case classification, count }

/// `--class-weights`: inverse class frequency on the training split, none, or given per class.
public enum ClassWeighting: Equatable, Codable, Sendable {
    case auto, none, fixed([Double])

    /// Parses `auto`, `none` or comma-separated weights (`1,2.5,1`).
    public init?(argument: String) {
        switch argument.lowercased() {
        case "auto": self = .auto
        case "none": self = .none
        default:
            let parts = argument.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0!.isFinite && $0! >= 0 }) else { return nil }
            self = .fixed(parts.map { $0! })
        }
    }

    public var argument: String {
        switch self {
        case .auto: "auto"
        case .none: "none"
        case let .fixed(w): w.map { String($0) }.joined(separator: ",")
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let list = try? c.decode([Double].self) { self = .fixed(list); return }
        let text = try c.decode(String.self)
        guard let value = ClassWeighting(argument: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected auto, none or weights like 1,2,1 (got '\(text)')")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(argument)
    }

    /// The weights for a training split with `counts` patches per class (auto: n / (classes · n_c),
    /// scikit-learn's "balanced"; a class without training patches gets 0). nil: unweighted.
    public func weights(counts: [Int]) -> [Float]? {
        switch self {
        case .none: return nil
        case let .fixed(w): return w.map(Float.init)
        case .auto:
            let n = Double(counts.reduce(0, +)), k = Double(counts.count)
            return counts.map { $0 == 0 ? 0 : Float(n / (k * Double($0))) }
        }
    }
}

/// `--resume`: the newest valid checkpoint in --out (auto), a fresh start (never), or a named file.
public enum ResumeMode: Equatable, Codable, Sendable {
    case auto, never, path(String)

    public init(argument: String) {
        switch argument { case "auto": self = .auto; case "never": self = .never; default: self = .path(argument) }
    }
    public var argument: String {
        switch self { case .auto: "auto"; case .never: "never"; case let .path(p): p }
    }
    public init(from decoder: Decoder) throws { self.init(argument: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(argument) }
}

/// Every setting of a training run; what `--config FILE` (a YAML run configuration, keys as the
/// flags with '_' for '-') and the flags fill in. Flags win over the file; the file over the defaults.
public struct TrainSettings: Codable, Equatable, Sendable {
    public var data: String?
    public var model: String?
    public var out: String?
    public var epochs: Int?
    public var batchSize: Int?
    public var optimizer: OptimizerKind?
    public var lr: Double?
    public var momentum: Double?
    public var weightDecay: Double?
    public var lrDecay: Double?
    public var schedule: ScheduleKind?
    public var loss: LossKind?
    public var focalGamma: Double?
    public var classWeights: ClassWeighting?
    public var patience: Int?
    public var seed: UInt64?
    public var resume: ResumeMode?
    public var initFrom: String?
    public var checkpointEvery: Int?
    public var keep: Int?
    public var augment: Bool?
    public var maxDegrees: Double?
    public var checksumEvery: Int?
    public var syncBN: Bool?
    public var task: TaskKind?
    /// Count task: more maps files whose every image is training data (e.g. synthetic plates' maps).
    public var alsoTrain: [String]?
    /// Colour tiles: fastai's `max_lighting` (brightness and contrast jitter), 0…1.
    public var lighting: Double?
    /// Layer-group learning rates (fastai's `slice(lr_min, lr)`): the first group's peak rate, the
    /// groups between geometric, the head at `lr`. nil: one rate.
    public var lrMin: Double?
    /// fastai's `fine_tune`: this many epochs first with the body frozen (BatchNorm still learning)
    /// on their own one-cycle at `freeze_lr`, then the rest unfrozen on a new cycle.
    public var freezeEpochs: Int?
    public var freezeLR: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case data, model, out, epochs, batchSize = "batch_size", optimizer, lr, momentum, weightDecay = "weight_decay"
        case lrDecay = "lr_decay", schedule, loss, focalGamma = "focal_gamma", classWeights = "class_weights", patience, seed, resume
        case initFrom = "init", checkpointEvery = "checkpoint_every", keep, augment, maxDegrees = "max_degrees"
        case checksumEvery = "checksum_every", syncBN = "sync_bn", task, alsoTrain = "also_train"
        case lighting, lrMin = "lr_min", freezeEpochs = "freeze_epochs", freezeLR = "freeze_lr"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decodeIfPresent(String.self, forKey: .data)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        out = try c.decodeIfPresent(String.self, forKey: .out)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize)
        optimizer = try c.decodeIfPresent(OptimizerKind.self, forKey: .optimizer)
        lr = try c.decodeFiniteIfPresent(.lr)
        momentum = try c.decodeFiniteIfPresent(.momentum)
        weightDecay = try c.decodeFiniteIfPresent(.weightDecay)
        lrDecay = try c.decodeFiniteIfPresent(.lrDecay)
        schedule = try c.decodeIfPresent(ScheduleKind.self, forKey: .schedule)
        loss = try c.decodeIfPresent(LossKind.self, forKey: .loss)
        focalGamma = try c.decodeFiniteIfPresent(.focalGamma)
        classWeights = try c.decodeIfPresent(ClassWeighting.self, forKey: .classWeights)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        resume = try c.decodeIfPresent(ResumeMode.self, forKey: .resume)
        initFrom = try c.decodeIfPresent(String.self, forKey: .initFrom)
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery)
        keep = try c.decodeIfPresent(Int.self, forKey: .keep)
        augment = try c.decodeIfPresent(Bool.self, forKey: .augment)
        maxDegrees = try c.decodeFiniteIfPresent(.maxDegrees)
        checksumEvery = try c.decodeIfPresent(Int.self, forKey: .checksumEvery)
        syncBN = try c.decodeIfPresent(Bool.self, forKey: .syncBN)
        task = try c.decodeIfPresent(TaskKind.self, forKey: .task)
        alsoTrain = try c.decodeIfPresent([String].self, forKey: .alsoTrain)
        lighting = try c.decodeFiniteIfPresent(.lighting)
        lrMin = try c.decodeFiniteIfPresent(.lrMin)
        freezeEpochs = try c.decodeIfPresent(Int.self, forKey: .freezeEpochs)
        freezeLR = try c.decodeFiniteIfPresent(.freezeLR)
    }

    /// `self` with every unset field taken from `base`.
    public func over(_ base: TrainSettings) -> TrainSettings {
        var r = self
        r.data = data ?? base.data; r.model = model ?? base.model; r.out = out ?? base.out
        r.epochs = epochs ?? base.epochs; r.batchSize = batchSize ?? base.batchSize
        r.optimizer = optimizer ?? base.optimizer; r.lr = lr ?? base.lr; r.momentum = momentum ?? base.momentum
        r.weightDecay = weightDecay ?? base.weightDecay; r.lrDecay = lrDecay ?? base.lrDecay; r.loss = loss ?? base.loss
        r.schedule = schedule ?? base.schedule
        r.focalGamma = focalGamma ?? base.focalGamma; r.classWeights = classWeights ?? base.classWeights
        r.patience = patience ?? base.patience; r.seed = seed ?? base.seed; r.resume = resume ?? base.resume
        r.initFrom = initFrom ?? base.initFrom; r.checkpointEvery = checkpointEvery ?? base.checkpointEvery
        r.keep = keep ?? base.keep; r.augment = augment ?? base.augment; r.maxDegrees = maxDegrees ?? base.maxDegrees
        r.checksumEvery = checksumEvery ?? base.checksumEvery; r.syncBN = syncBN ?? base.syncBN
        r.task = task ?? base.task; r.alsoTrain = alsoTrain ?? base.alsoTrain
        r.lighting = lighting ?? base.lighting; r.lrMin = lrMin ?? base.lrMin
        r.freezeEpochs = freezeEpochs ?? base.freezeEpochs; r.freezeLR = freezeLR ?? base.freezeLR
        return r
    }

    /// The defaults (the paper's recipe: SGD lr 1e-3, momentum 0.9, Keras time decay 1e-7, ±10°
    /// rotation and flips, early stopping after 10 epochs without a better validation loss).
    public static let defaults: TrainSettings = {
        var d = TrainSettings()
        d.model = "densenet121"; d.epochs = 50; d.batchSize = 32; d.optimizer = .sgd; d.lr = 1e-3; d.momentum = 0.9
        d.weightDecay = 0; d.lrDecay = 1e-7; d.schedule = .timeDecay; d.loss = .ce; d.focalGamma = 2; d.classWeights = ClassWeighting.none
        d.patience = 10; d.seed = 42; d.resume = .auto; d.checkpointEvery = 0; d.keep = 3; d.augment = true
        d.maxDegrees = 10; d.checksumEvery = 50; d.syncBN = false; d.task = .classification
        d.lighting = 0; d.freezeEpochs = 0
        return d
    }()

    /// Flags over the YAML file (if any) over the defaults; checked. Errors name the file and key.
    public static func resolve(flags: TrainSettings, config: String?) throws -> ResolvedTrainSettings {
        var file = TrainSettings()
        if let config { file = try ConfigFile.load(TrainSettings.self, from: config) }
        let given = flags.over(file)
        var merged = given.over(defaults)
        // The loss follows the task unless one is given; a given one must suit the task.
        let task = merged.task!
        merged.loss = given.loss ?? (task == .count ? .mae : .ce)
        let source = config.map { "\($0) (or its flag)" } ?? "flags"
        func fail(_ key: String, _ problem: String) -> ConfigError {
            ConfigError(path: config ?? "train", problem: "\(key): \(problem)")
        }
        guard let data = merged.data else { throw fail("data", "no patches file: give --data patches.h5 (or `data:` in \(source))") }
        guard let out = merged.out else { throw fail("out", "no output folder: give --out DIR (or `out:` in \(source))") }
        func range<T: Comparable>(_ key: String, _ v: T, _ r: ClosedRange<T>) throws {
            guard r.contains(v) else { throw fail(key, "must be \(r.lowerBound)…\(r.upperBound) (got \(v))") }
        }
        try range("epochs", merged.epochs!, 1...100_000)
        try range("batch_size", merged.batchSize!, 1...65536)
        try range("lr", merged.lr!, 0...10)
        try range("momentum", merged.momentum!, 0...1)
        try range("weight_decay", merged.weightDecay!, 0...1)
        try range("lr_decay", merged.lrDecay!, 0...1)
        try range("focal_gamma", merged.focalGamma!, 0...10)
        try range("patience", merged.patience!, 0...100_000)
        try range("checkpoint_every", merged.checkpointEvery!, 0...10_000_000)
        try range("keep", merged.keep!, 1...1000)
        try range("max_degrees", merged.maxDegrees!, 0...180)
        try range("checksum_every", merged.checksumEvery!, 0...10_000_000)
        try range("lighting", merged.lighting!, 0...1)
        try range("freeze_epochs", merged.freezeEpochs!, 0...merged.epochs! - 1)
        if let lrMin = merged.lrMin {
            try range("lr_min", lrMin, 0...merged.lr!)
        }
        if let freezeLR = merged.freezeLR { try range("freeze_lr", freezeLR, 0...10) }
        if merged.freezeLR != nil && merged.freezeEpochs == 0 {
            throw fail("freeze_lr", "is the rate of the frozen epochs; give freeze_epochs too")
        }
        if merged.freezeEpochs! > 0 && merged.schedule != .oneCycle {
            throw fail("freeze_epochs", "fine-tuning runs two one-cycles (fastai's fine_tune); give schedule one-cycle")
        }
        if merged.schedule == .oneCycle, given.lrDecay != nil {
            throw fail("lr_decay", "is the time-decay schedule's; with schedule one-cycle the rate follows the cycle (drop lr_decay)")
        }
        if let extra = merged.alsoTrain, !extra.isEmpty, task != .count {
            throw fail("also_train", "adds maps to a count task's training (--task count); a classification run takes one patches file")
        }
        if (task == .count) != (merged.loss == .mae) {
            throw fail("loss", task == .count ? "a count task learns with loss mae (got \(merged.loss!.rawValue))"
                                              : "loss mae is for --task count; classification uses ce or focal")
        }
        return ResolvedTrainSettings(
            data: data, model: merged.model!, out: out, epochs: merged.epochs!, batchSize: merged.batchSize!,
            optimizer: merged.optimizer!, lr: merged.lr!, momentum: merged.momentum!, weightDecay: merged.weightDecay!,
            lrDecay: merged.schedule == .oneCycle ? 0 : merged.lrDecay!,
            schedule: merged.schedule == .oneCycle ? .oneCycle : nil, loss: merged.loss!, focalGamma: merged.focalGamma!, classWeights: merged.classWeights!,
            patience: merged.patience!, seed: merged.seed!, resume: merged.resume!, initFrom: merged.initFrom,
            checkpointEvery: merged.checkpointEvery!, keep: merged.keep!, augment: merged.augment!,
            maxDegrees: merged.maxDegrees!, checksumEvery: merged.checksumEvery!, syncBN: merged.syncBN!, task: task, config: config,
            alsoTrain: merged.alsoTrain?.isEmpty == false ? merged.alsoTrain : nil,
            lighting: merged.lighting! > 0 ? merged.lighting : nil, lrMin: merged.lrMin,
            freezeEpochs: merged.freezeEpochs! > 0 ? merged.freezeEpochs : nil,
            freezeLR: merged.freezeEpochs! > 0 ? (merged.freezeLR ?? merged.lr!) : nil)
    }
}

/// A training run's settings after resolution: every value set (rank 0 resolves, every rank gets these).
public struct ResolvedTrainSettings: Codable, Equatable, Sendable {
    public var data: String
    public var model: String
    public var out: String
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var lr: Double
    public var momentum: Double
    public var weightDecay: Double
    public var lrDecay: Double
    /// nil: time decay (`lrDecay`); absent from the JSON of runs from before the key.
    public var schedule: ScheduleKind? = nil
    public var loss: LossKind
    public var focalGamma: Double
    public var classWeights: ClassWeighting
    /// 0: no early stopping.
    public var patience: Int
    public var seed: UInt64
    public var resume: ResumeMode
    public var initFrom: String?
    /// Also checkpoint every N steps inside an epoch (0: at the end of each epoch only).
    public var checkpointEvery: Int
    public var keep: Int
    public var augment: Bool
    public var maxDegrees: Double
    /// Compare the weight checksum over ranks every N steps (0: at checkpoints only).
    public var checksumEvery: Int
    /// All-reduce the BatchNorm batch statistics (N ranks compute what one rank with the whole batch would).
    public var syncBN: Bool
    public var task: TaskKind
    public var config: String?
    /// Count task: maps files whose every image is also training data (nil: none; absent from the JSON).
    public var alsoTrain: [String]? = nil
    /// Colour tiles' lighting augmentation (nil: none); layer-group rates; fine-tuning's frozen
    /// epochs and their rate (nil: not used; absent from the JSON of runs that do not use them).
    public var lighting: Double? = nil
    public var lrMin: Double? = nil
    public var freezeEpochs: Int? = nil
    public var freezeLR: Double? = nil

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
