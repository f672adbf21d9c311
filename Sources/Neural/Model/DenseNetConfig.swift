import Foundation
import Storage

/// A DenseNet as config/models/*.yaml describes it (torchvision's parameterisation).
public struct DenseNetConfig: Codable, Equatable, Sendable {
    public var name: String
    public var growthRate: Int
    public var blockConfig: [Int]
    public var bottleneckSize: Int
    public var compression: Double
    public var initialFeatures: Int
    public var inputChannels: Int
    public var numClasses: Int
    public var inputSize: Int
    public var dropRate: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, growthRate = "growth_rate", blockConfig = "block_config", bottleneckSize = "bn_size"
        case compression, initialFeatures = "num_init_features", inputChannels = "input_channels"
        case numClasses = "num_classes", inputSize = "input_size", dropRate = "drop_rate"
        case architecture
    }

    public init(name: String, growthRate: Int, blockConfig: [Int], bottleneckSize: Int = 4, compression: Double = 0.5,
                initialFeatures: Int, inputChannels: Int = 1, numClasses: Int = 3, inputSize: Int = 112,
                dropRate: Double = 0) {
        self.name = name; self.growthRate = growthRate; self.blockConfig = blockConfig
        self.bottleneckSize = bottleneckSize; self.compression = compression
        self.initialFeatures = initialFeatures; self.inputChannels = inputChannels
        self.numClasses = numClasses; self.inputSize = inputSize; self.dropRate = dropRate
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let architecture = try c.decodeIfPresent(String.self, forKey: .architecture), architecture != "densenet" {
            throw DecodingError.dataCorruptedError(forKey: .architecture, in: c,
                                                   debugDescription: "architecture '\(architecture)' is not a DenseNet")
        }
        name = try c.decode(String.self, forKey: .name)
        growthRate = try c.decode(Int.self, forKey: .growthRate)
        blockConfig = try c.decode([Int].self, forKey: .blockConfig)
        bottleneckSize = try c.decodeIfPresent(Int.self, forKey: .bottleneckSize) ?? 4
        compression = try c.decodeFiniteIfPresent(.compression) ?? 0.5
        initialFeatures = try c.decode(Int.self, forKey: .initialFeatures)
        inputChannels = try c.decodeIfPresent(Int.self, forKey: .inputChannels) ?? 1
        numClasses = try c.decodeIfPresent(Int.self, forKey: .numClasses) ?? 3
        inputSize = try c.decodeIfPresent(Int.self, forKey: .inputSize) ?? 112
        dropRate = try c.decodeFiniteIfPresent(.dropRate) ?? 0
    }

    /// Always names its architecture (`densenet`), so a file says which network it holds.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("densenet", forKey: .architecture)
        try c.encode(name, forKey: .name)
        try c.encode(growthRate, forKey: .growthRate)
        try c.encode(blockConfig, forKey: .blockConfig)
        try c.encode(bottleneckSize, forKey: .bottleneckSize)
        try c.encode(compression, forKey: .compression)
        try c.encode(initialFeatures, forKey: .initialFeatures)
        try c.encode(inputChannels, forKey: .inputChannels)
        try c.encode(numClasses, forKey: .numClasses)
        try c.encode(inputSize, forKey: .inputSize)
        try c.encode(dropRate, forKey: .dropRate)
    }

    /// Structural checks with messages that say which field is wrong. The upper bounds are far above
    /// any DenseNet in use; they keep a typo from asking for more memory than exists.
    public func validate() throws {
        func fail(_ m: String) -> NeuralError { .badConfig("model '\(name)': \(m)") }
        for (key, value, range) in [("growth_rate", growthRate, 1...1024), ("bn_size", bottleneckSize, 1...16),
                                    ("num_init_features", initialFeatures, 1...4096), ("input_channels", inputChannels, 1...16),
                                    ("num_classes", numClasses, 2...1000), ("input_size", inputSize, 1...4096)]
        where !range.contains(value) {
            throw fail("\(key) must be in \(range.lowerBound)…\(range.upperBound) (got \(value))")
        }
        guard (1...8).contains(blockConfig.count), blockConfig.allSatisfy({ (1...256).contains($0) }) else {
            throw fail("block_config must list 1…8 layer counts, each 1…256 (got \(blockConfig))")
        }
        guard compression > 0 && compression <= 1 else { throw fail("compression must be in (0, 1] (got \(compression))") }
        guard dropRate == 0 else { throw fail("drop_rate \(dropRate) is not supported (the paper and torchvision use 0)") }
        var size = (inputSize + 6 - 7) / 2 + 1
        size = (size + 2 - 3) / 2 + 1
        for _ in 1..<blockConfig.count { size /= 2 }
        guard size >= 1 else { throw fail("input_size \(inputSize) is too small for \(blockConfig.count) blocks") }
    }

    /// Parses YAML text; `source` names the file in messages.
    public static func parse(yaml: String, source: String = "model configuration") throws -> DenseNetConfig {
        let config = try ConfigFile.decode(DenseNetConfig.self, yaml: yaml, source: source)
        do { try config.validate() } catch { throw ConfigError(path: source, problem: "\(error)") }
        return config
    }

    /// Loads a DenseNet configuration by name or path (`ModelConfig.load`); another architecture is refused.
    public static func load(_ nameOrPath: String) throws -> DenseNetConfig {
        guard case let .densenet(config) = try ModelConfig.load(nameOrPath) else {
            throw NeuralError.badConfig("model '\(nameOrPath)' is not a DenseNet")
        }
        return config
    }

    /// Built-in copies of config/models/*.yaml (used when the config directory is not found).
    public static let presets: [String: DenseNetConfig] = [
        "densenet121": DenseNetConfig(name: "densenet121", growthRate: 32, blockConfig: [6, 12, 24, 16],
                                      bottleneckSize: 4, compression: 0.5, initialFeatures: 64),
        "densenet-small": DenseNetConfig(name: "densenet-small", growthRate: 12, blockConfig: [6, 12, 8],
                                         bottleneckSize: 4, compression: 0.5, initialFeatures: 32),
        "densenet-sample": DenseNetConfig(name: "densenet-sample", growthRate: 12, blockConfig: [6, 12, 8],
                                          bottleneckSize: 4, compression: 0.5, initialFeatures: 32, inputSize: 64),
        "densenet-tiny": DenseNetConfig(name: "densenet-tiny", growthRate: 4, blockConfig: [2, 2],
                                        bottleneckSize: 2, compression: 0.5, initialFeatures: 8, inputSize: 32),
    ]
}
