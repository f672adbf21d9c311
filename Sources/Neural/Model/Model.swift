import Foundation
import Storage

/// What every network of the engine offers, so that `train`, `evaluate`, `infer`, `bench` (and the
/// coming `screen`) never name a concrete architecture. A model owns its parameters and the
/// activations of its last forward pass; it is not thread-safe.
///
/// Images are channels-last [batch, height, width, inputChannels] float32; logits are
/// [batch, numClasses].
public protocol Model: AnyObject {
    /// The configuration (its JSON names the `architecture`), stored in every checkpoint.
    var modelConfig: ModelConfig { get }
    /// Learnable tensors, in state_dict order (what optimizers update and the all-reduce averages).
    var parameters: [Parameter] { get }
    /// Non-learnable state, in state_dict order (BatchNorm running mean/var).
    var buffers: [Parameter] { get }
    /// Every tensor a checkpoint holds, in PyTorch state_dict order; names are state_dict keys with
    /// '.' → '/' (e.g. `features/denseblock1/denselayer1/conv1/weight`).
    var stateTensors: [Parameter] { get }
    /// Set: BatchNorm batch statistics over every rank's shard (synchronised BatchNorm); nil:
    /// per-rank statistics.
    var batchNormSync: BatchNormSync? { get set }
    /// Called during `backward` with a parameter once its gradient and those of every later
    /// parameter (in `parameters` order) are final, so an all-reduce of them can start while
    /// backward goes on (`OverlappedGradients`). nil: not called. Not called in a step whose loss is
    /// not finite (`gradients(...)`).
    var gradientsReady: ((Parameter) -> Void)? { get set }
    /// The first convolution's kernel (its input channels may be summed when importing RGB weights).
    var inputKernelName: String? { get }

    /// Runs the network; `training` uses batch statistics (and updates running ones) and keeps what
    /// `backward` needs. Returns the logits, valid until the next call.
    @discardableResult
    func forward(_ images: UnsafePointer<Float>, batch: Int, height: Int, width: Int, training: Bool) -> UnsafePointer<Float>

    /// Accumulates parameter gradients for dLoss/dLogits of the last training forward; returns
    /// dLoss/dInput when `inputGradient` is true.
    @discardableResult
    func backward(logitsGradient: UnsafePointer<Float>, inputGradient: Bool) -> UnsafePointer<Float>?

    /// Forward FLOPs per image (multiply-adds × 2).
    func forwardFLOPs(height: Int, width: Int) -> Double

    /// Training FLOPs per image: forward + backward (≈ 3× forward, less the input gradient of the
    /// first layer, which is never computed).
    func trainingFLOPs(height: Int, width: Int) -> Double

    /// Bytes one forward (with `training`: backward, gradients, one optimizer slot) of `batch` images needs.
    func memoryBytes(batch: Int, height: Int, width: Int, training: Bool) -> Double

    /// Keys the randomness of the next training forward (dropout masks) by the optimizer step and
    /// each sample's position in the global batch (this rank's j-th sample is at
    /// `firstSample + j·sampleStride`: the loader deals the global batch out to ranks in turn), so
    /// masks do not depend on the rank count and repeat after a resume. Networks without
    /// randomness ignore it.
    func setRandomStream(step: Int, firstSample: Int, sampleStride: Int)

    /// A new network with this one's configuration, weights, running statistics and random-stream
    /// seed, and activations of its own: one thread's copy (`ModelReplicas`).
    func replica() throws -> any Model

    /// fastai's layer groups (discriminative learning rates, freezing): every learnable tensor with
    /// its group, 0 nearest the input, the last group the head; nil for networks without a split.
    var layerGroups: [LayerGroupMember]? { get }
}

/// One learnable tensor's place in the layer groups.
public struct LayerGroupMember {
    public let parameter: Parameter
    public let group: Int
    /// BatchNorm scale or shift: stays trainable in a frozen body (fastai's `train_bn`).
    public let batchNorm: Bool
}

extension Model {
    public var layerGroups: [LayerGroupMember]? { nil }

    public func setRandomStream(step: Int, firstSample: Int, sampleStride: Int) {}

    public var architecture: String { modelConfig.architecture }
    public var name: String { modelConfig.name }
    public var numClasses: Int { modelConfig.numClasses }
    public var inputSize: Int { modelConfig.inputSize }
    public var inputWidth: Int { modelConfig.inputWidth }
    public var inputChannels: Int { modelConfig.inputChannels }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Takes `other`'s weights and running statistics (same configuration).
    public func copyState(from other: any Model) {
        for (to, from) in zip(stateTensors, other.stateTensors) {
            from.value.withUnsafeBufferPointer { f in to.value.withUnsafeMutableBufferPointer { $0.update(from: f) } }
        }
    }

    /// One optimisation step on a batch: forward, loss, backward, update. Throws (naming the
    /// step) if the loss is not finite, before any weight is touched.
    /// `beforeUpdate` sees the gradients before the optimizer does (data-parallel training
    /// all-reduces them there).
    @discardableResult
    public func trainStep(images: UnsafePointer<Float>, labels: [Int], height: Int, width: Int,
                          loss: ClassificationLoss, optimizer: Optimizer,
                          beforeUpdate: (([Parameter]) throws -> Void)? = nil) throws -> Double {
        try trainBatch(images: images, labels: labels, height: height, width: width, loss: loss,
                       optimizer: optimizer, beforeUpdate: beforeUpdate).loss
    }

    /// `trainStep` that also counts the batch's correct predictions (arg-max of the training-mode logits).
    public func trainBatch(images: UnsafePointer<Float>, labels: [Int], height: Int, width: Int,
                           loss: ClassificationLoss, optimizer: Optimizer,
                           beforeUpdate: (([Parameter]) throws -> Void)? = nil) throws -> (loss: Double, correct: Int) {
        let result = try gradients(images: images, labels: labels, height: height, width: width, loss: loss, step: optimizer.step)
        try update(optimizer: optimizer, beforeUpdate: beforeUpdate)
        return result
    }

    /// One optimisation step of a regression (the PL counter's stage 2): outputs [n, k] against
    /// targets [n · k] under mean absolute error. Returns the batch loss; throws on a non-finite one.
    @discardableResult
    public func trainBatch(images: UnsafePointer<Float>, targets: [Float], batch n: Int, height: Int, width: Int,
                           loss: MeanAbsoluteError, optimizer: Optimizer,
                           beforeUpdate: (([Parameter]) throws -> Void)? = nil) throws -> Double {
        let value = try gradients(images: images, targets: targets, batch: n, height: height, width: width, loss: loss, step: optimizer.step)
        try update(optimizer: optimizer, beforeUpdate: beforeUpdate)
        return value
    }

    /// The gradients of a classification batch (zeroed first): the loss and the correct predictions
    /// of the training-mode logits. Throws, naming optimizer step `step`, if the loss is not finite.
    /// `checkFinite` false: the caller checks the loss (replicas that synchronise BatchNorm must all
    /// finish backward before any of them may stop).
    public func gradients(images: UnsafePointer<Float>, labels: [Int], height: Int, width: Int,
                          loss: ClassificationLoss, step: Int, checkFinite: Bool = true) throws -> (loss: Double, correct: Int) {
        let n = labels.count, classes = numClasses
        var correct = 0
        let value = try gradients(images: images, batch: n, height: height, width: width, step: step, checkFinite: checkFinite) { logits, gradient in
            for i in 0..<n {
                var best = 0
                for j in 1..<classes where logits[i * classes + j] > logits[i * classes + best] { best = j }
                if best == labels[i] { correct += 1 }
            }
            return loss(logits: logits, labels: labels, classes: classes, gradient: gradient)
        }
        return (value, correct)
    }

    /// The gradients of a regression batch (outputs [n, k] against targets [n · k]).
    public func gradients(images: UnsafePointer<Float>, targets: [Float], batch n: Int, height: Int, width: Int,
                          loss: MeanAbsoluteError, step: Int, checkFinite: Bool = true) throws -> Double {
        precondition(targets.count == n * numClasses, "trainBatch: \(targets.count) targets for \(n) × \(numClasses) outputs")
        return try gradients(images: images, batch: n, height: height, width: width, step: step, checkFinite: checkFinite) {
            loss(outputs: $0, targets: targets, gradient: $1)
        }
    }

    /// What both tasks share: zeroed gradients, training-mode forward, `loss` (which sees the outputs
    /// [n, k] and writes dLoss/dOutputs), the finite check, backward.
    private func gradients(images: UnsafePointer<Float>, batch n: Int, height: Int, width: Int, step: Int, checkFinite: Bool,
                           loss: (_ outputs: UnsafePointer<Float>, _ gradient: UnsafeMutablePointer<Float>) -> Double) throws -> Double {
        zeroGrad()
        let outputs = forward(images, batch: n, height: height, width: width, training: true)
        var gradient = [Float](repeating: 0, count: n * numClasses)
        let value = gradient.withUnsafeMutableBufferPointer { loss(outputs, $0.baseAddress!) }
        guard value.isFinite || !checkFinite else { throw NeuralError.nonFiniteLoss(step: step, value: Float(value)) }
        // A step with a non-finite loss never reaches the optimizer: its gradients must not start
        // an all-reduce either (the other ranks would average them and go on).
        let ready = gradientsReady
        if !value.isFinite { gradientsReady = nil }
        defer { gradientsReady = ready }
        gradient.withUnsafeBufferPointer { _ = backward(logitsGradient: $0.baseAddress!, inputGradient: false) }
        return value
    }

    /// `beforeUpdate` (the all-reduce), then the optimizer's update of the gradients in place.
    public func update(optimizer: Optimizer, beforeUpdate: (([Parameter]) throws -> Void)? = nil) throws {
        if let beforeUpdate { try Profiler.time(.communication) { try beforeUpdate(parameters) } }
        optimizer.update(parameters)
    }

    /// Logits for channels-last images in inference mode, `batchSize` at a time.
    public func predict(_ images: Tensor, batchSize: Int = 32) -> Tensor {
        let (n, h, w, c) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        precondition(c == inputChannels)
        let classes = numClasses
        var out = [Float](repeating: 0, count: n * classes)
        images.scalars.withUnsafeBufferPointer { x in
            var start = 0
            while start < n {
                let count = min(batchSize, n - start)
                let logits = forward(x.baseAddress! + start * h * w * c, batch: count, height: h, width: w, training: false)
                for i in 0..<count * classes { out[start * classes + i] = logits[i] }
                start += count
            }
        }
        return Tensor(shape: [n, classes], scalars: out)
    }
}

/// A model configuration of any architecture: the JSON/YAML object whose `architecture` key says
/// which network it builds (absent: `densenet`, what every file before the key held). New
/// architectures add a case here and a `Model` type; nothing that trains or runs models changes.
public enum ModelConfig: Codable, Equatable, Sendable {
    case densenet(DenseNetConfig)
    case sequential(SequentialConfig)
    case resnet(ResNetConfig)

    /// Architectures this build knows.
    public static let architectures = ["densenet", "sequential", "resnet"]

    public var architecture: String {
        switch self { case .densenet: "densenet"; case .sequential: "sequential"; case .resnet: "resnet" }
    }
    public var name: String {
        switch self { case let .densenet(c): c.name; case let .sequential(c): c.name; case let .resnet(c): c.name }
    }
    public var numClasses: Int {
        switch self { case let .densenet(c): c.numClasses; case let .sequential(c): c.numClasses; case let .resnet(c): c.numClasses }
    }
    public var inputSize: Int {
        switch self { case let .densenet(c): c.inputSize; case let .sequential(c): c.inputSize; case let .resnet(c): c.inputSize }
    }
    public var inputChannels: Int {
        switch self {
        case let .densenet(c): c.inputChannels; case let .sequential(c): c.inputChannels; case let .resnet(c): c.inputChannels
        }
    }
    /// The input's width (DenseNets take square input: `inputSize`).
    public var inputWidth: Int {
        switch self { case let .densenet(c): c.inputSize; case let .sequential(c): c.inputWidth; case let .resnet(c): c.inputWidth }
    }
    /// Whether input patches are z-scored on their own or with their source image's statistics.
    public var inputNormalization: SequentialConfig.InputNormalization {
        switch self { case .densenet: .patch; case let .resnet(c): c.inputNormalization; case let .sequential(c): c.inputNormalization }
    }

    /// Whether the network takes any input size (global pooling before its classifier): a ResNet
    /// trains on the tiles it is given, whatever its preset's `input_size`.
    public var acceptsAnyInputSize: Bool { if case .resnet = self { true } else { false } }

    /// Whether `other` has this network's body (ResNets: block, stages, width, input channels), so
    /// its weights can start this one whatever the head (torchvision's fc → fastai's head).
    public func sharesBody(with other: ModelConfig) -> Bool {
        guard case let .resnet(a) = self, case let .resnet(b) = other else { return false }
        return a.block == b.block && a.layers == b.layers && a.width == b.width && a.inputChannels == b.inputChannels
    }

    /// The same configuration at another input size (ResNets only; see `acceptsAnyInputSize`).
    public func with(inputSize height: Int, width: Int) -> ModelConfig {
        guard case var .resnet(c) = self else { return self }
        c.inputSize = height; c.inputWidth = width
        return .resnet(c)
    }

    /// The same configuration with another class count / input channel count.
    public func with(numClasses: Int? = nil, inputChannels: Int? = nil) -> ModelConfig {
        switch self {
        case var .densenet(c):
            if let numClasses { c.numClasses = numClasses }
            if let inputChannels { c.inputChannels = inputChannels }
            return .densenet(c)
        case var .sequential(c):
            if let numClasses { c = c.with(numClasses: numClasses) }
            if let inputChannels { c.inputChannels = inputChannels }
            return .sequential(c)
        case var .resnet(c):
            if let numClasses { c.numClasses = numClasses }
            if let inputChannels { c.inputChannels = inputChannels }
            return .resnet(c)
        }
    }

    /// Builds the network with weights drawn from `seed`.
    public func makeModel(seed: UInt64 = 0) throws -> any Model {
        switch self {
        case let .densenet(c): try DenseNet(config: c, seed: seed)
        case let .sequential(c): try SequentialNet(config: c, seed: seed)
        case let .resnet(c): try ResNet(config: c, seed: seed)
        }
    }

    private enum ArchitectureKey: String, CodingKey { case architecture }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ArchitectureKey.self)
        let architecture = try c.decodeIfPresent(String.self, forKey: .architecture) ?? "densenet"
        switch architecture {
        case "densenet": self = .densenet(try DenseNetConfig(from: decoder))
        case "sequential": self = .sequential(try SequentialConfig(from: decoder))
        case "resnet": self = .resnet(try ResNetConfig(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .architecture, in: c, debugDescription:
                "unknown architecture '\(architecture)' (this netosis knows: \(Self.architectures.joined(separator: ", ")))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case let .densenet(c): try c.encode(to: encoder)
        case let .sequential(c): try c.encode(to: encoder)
        case let .resnet(c): try c.encode(to: encoder)
        }
    }

    /// JSON with sorted keys (what checkpoints store).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Structural checks of whichever network it is.
    public func validate() throws {
        switch self {
        case let .densenet(c): try c.validate()
        case let .sequential(c): try c.validate()
        case let .resnet(c): try c.validate()
        }
    }

    /// Parses YAML text of any architecture; `source` names the file in messages.
    public static func parse(yaml: String, source: String = "model configuration") throws -> ModelConfig {
        let config = try ConfigFile.decode(ModelConfig.self, yaml: yaml, source: source)
        do { try config.validate() } catch { throw ConfigError(path: source, problem: "\(error)") }
        return config
    }

    /// Loads a model configuration from a YAML path, or by name from config/models/ (searched from
    /// the current directory upwards and beside the executable), falling back to the built-in
    /// presets; the `architecture` key picks the network.
    public static func load(_ nameOrPath: String) throws -> ModelConfig {
        if nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") || nameOrPath.contains("/") {
            return try parse(yaml: ConfigFile.read(nameOrPath), source: nameOrPath)
        }
        var directories: [URL] = []
        var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 { directories.append(dir); dir = dir.deletingLastPathComponent() }
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 { directories.append(exe); exe = exe.deletingLastPathComponent() }
        for d in directories {
            let path = d.appendingPathComponent("config/models/\(nameOrPath).yaml").path
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return try parse(yaml: text, source: path) }
        }
        if let preset = presets[nameOrPath] { return preset }
        throw NeuralError.badConfig("unknown model '\(nameOrPath)': use one of \(presets.keys.sorted().joined(separator: ", ")) or a .yaml path")
    }

    /// Built-in copies of config/models/*.yaml (used when the config directory is not found).
    public static var presets: [String: ModelConfig] {
        DenseNetConfig.presets.mapValues { .densenet($0) }
            .merging(SequentialConfig.presets.mapValues { .sequential($0) }) { a, _ in a }
            .merging(ResNetConfig.presets.mapValues { .resnet($0) }) { a, _ in a }
    }
}
