import Foundation
import Storage

/// A ResNet as config/models/*.yaml describes it (torchvision's parameterisation: He et al. 2016,
/// with the stride on the 3×3 convolution of bottleneck blocks, "ResNet v1.5").
public struct ResNetConfig: Codable, Equatable, Sendable {
    public enum Block: String, Codable, Sendable {
        /// Two 3×3 convolutions (ResNet-18/34).
        case basic
        /// 1×1 → 3×3 → 1×1 with 4× expansion (ResNet-50/101/152).
        case bottleneck

        public var expansion: Int { self == .basic ? 1 : 4 }
    }

    /// The classifier: torchvision's (global average pool → fc) or fastai's `create_head`
    /// (concatenated max and average pooling, BN, dropout, Linear(hidden), ReLU, BN, dropout, Linear).
    public enum Head: String, Codable, Sendable { case plain, fastai }

    public var name: String
    public var block: Block
    /// Residual blocks per stage; stage i has width·2^i channels (×4 after a bottleneck) and
    /// halves the resolution (except the first).
    public var layers: [Int]
    /// Channels of the stem and of the first stage (64 in every torchvision ResNet).
    public var width: Int
    public var inputChannels: Int
    public var numClasses: Int
    /// Input height; `inputWidth` its width (landscape tiles, e.g. 480×640).
    public var inputSize: Int
    public var inputWidth: Int
    public var head: Head
    /// fastai head: width of its hidden layer (512) and dropout p (p/2 before the first Linear, p
    /// before the second; 0.5 in the celldeath recipe).
    public var headHidden: Int
    public var headDropout: Double
    /// How tiles are scaled before the network (`imagenet` for ImageNet weights and the celldeath recipe).
    public var inputNormalization: SequentialConfig.InputNormalization

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, block, layers, width, inputChannels = "input_channels", numClasses = "num_classes"
        case inputSize = "input_size", inputWidth = "input_width", head, headHidden = "head_hidden"
        case headDropout = "head_dropout", inputNormalization = "input_normalization", architecture
    }

    public init(name: String, block: Block, layers: [Int], width: Int = 64, inputChannels: Int = 3,
                numClasses: Int = 2, inputSize: Int = 224, inputWidth: Int? = nil, head: Head = .plain,
                headHidden: Int = 512, headDropout: Double = 0.5, inputNormalization: SequentialConfig.InputNormalization = .patch) {
        self.inputNormalization = inputNormalization
        self.name = name; self.block = block; self.layers = layers; self.width = width
        self.inputChannels = inputChannels; self.numClasses = numClasses
        self.inputSize = inputSize; self.inputWidth = inputWidth ?? inputSize
        self.head = head; self.headHidden = headHidden; self.headDropout = headDropout
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let architecture = try c.decodeIfPresent(String.self, forKey: .architecture), architecture != "resnet" {
            throw DecodingError.dataCorruptedError(forKey: .architecture, in: c,
                                                   debugDescription: "architecture '\(architecture)' is not a ResNet")
        }
        name = try c.decode(String.self, forKey: .name)
        let blockName = try c.decode(String.self, forKey: .block)
        guard let block = Block(rawValue: blockName) else {
            throw DecodingError.dataCorruptedError(forKey: .block, in: c,
                                                   debugDescription: "block '\(blockName)' is not basic or bottleneck")
        }
        self.block = block
        layers = try c.decode([Int].self, forKey: .layers)
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? 64
        inputChannels = try c.decodeIfPresent(Int.self, forKey: .inputChannels) ?? 3
        numClasses = try c.decodeIfPresent(Int.self, forKey: .numClasses) ?? 2
        inputSize = try c.decodeIfPresent(Int.self, forKey: .inputSize) ?? 224
        inputWidth = try c.decodeIfPresent(Int.self, forKey: .inputWidth) ?? inputSize
        let headName = try c.decodeIfPresent(String.self, forKey: .head) ?? "plain"
        guard let head = Head(rawValue: headName) else {
            throw DecodingError.dataCorruptedError(forKey: .head, in: c, debugDescription: "head '\(headName)' is not plain or fastai")
        }
        self.head = head
        headHidden = try c.decodeIfPresent(Int.self, forKey: .headHidden) ?? 512
        headDropout = try c.decodeFiniteIfPresent(.headDropout) ?? 0.5
        let normalization = try c.decodeIfPresent(String.self, forKey: .inputNormalization) ?? "patch"
        guard let n = SequentialConfig.InputNormalization(rawValue: normalization), n != .image else {
            throw DecodingError.dataCorruptedError(forKey: .inputNormalization, in: c,
                                                   debugDescription: "input_normalization '\(normalization)' is not patch or imagenet")
        }
        inputNormalization = n
    }

    /// Always names its architecture (`resnet`), so a file says which network it holds.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("resnet", forKey: .architecture)
        try c.encode(name, forKey: .name)
        try c.encode(block.rawValue, forKey: .block)
        try c.encode(layers, forKey: .layers)
        try c.encode(width, forKey: .width)
        try c.encode(inputChannels, forKey: .inputChannels)
        try c.encode(numClasses, forKey: .numClasses)
        try c.encode(inputSize, forKey: .inputSize)
        try c.encode(inputWidth, forKey: .inputWidth)
        try c.encode(head.rawValue, forKey: .head)
        if head == .fastai {
            try c.encode(headHidden, forKey: .headHidden)
            try c.encode(headDropout, forKey: .headDropout)
        }
        if inputNormalization != .patch { try c.encode(inputNormalization.rawValue, forKey: .inputNormalization) }
    }

    /// Output channels of the last stage (the classifier's input).
    public var features: Int { (width << (layers.count - 1)) * block.expansion }

    /// Structural checks with messages that say which field is wrong.
    public func validate() throws {
        func fail(_ m: String) -> NeuralError { .badConfig("model '\(name)': \(m)") }
        for (key, value, range) in [("width", width, 1...1024), ("input_channels", inputChannels, 1...16),
                                    ("num_classes", numClasses, 2...1000), ("input_size", inputSize, 1...8192),
                                    ("input_width", inputWidth, 1...8192)]
        where !range.contains(value) {
            throw fail("\(key) must be in \(range.lowerBound)…\(range.upperBound) (got \(value))")
        }
        if inputNormalization == .imagenet && inputChannels != 3 {
            throw fail("input_normalization imagenet needs input_channels 3 (got \(inputChannels))")
        }
        guard (1...65536).contains(headHidden) else { throw fail("head_hidden must be in 1…65536 (got \(headHidden))") }
        guard headDropout >= 0 && headDropout < 1 else { throw fail("head_dropout must be in [0, 1) (got \(headDropout))") }
        guard (1...6).contains(layers.count), layers.allSatisfy({ (1...64).contains($0) }) else {
            throw fail("layers must list 1…6 block counts, each 1…64 (got \(layers))")
        }
        // Stem /4, then /2 per further stage: the last stage must keep at least one pixel.
        func reduced(_ s: Int) -> Int {
            var s = (s + 6 - 7) / 2 + 1
            s = (s + 2 - 3) / 2 + 1
            for _ in 1..<layers.count { s = (s + 2 - 3) / 2 + 1 }
            return s
        }
        guard reduced(inputSize) >= 1, reduced(inputWidth) >= 1 else {
            throw fail("input \(inputSize)×\(inputWidth) is too small for \(layers.count) stages")
        }
    }
}

extension ResNetConfig {
    /// Built-in copies of config/models/resnet*.yaml and celldeath-resnet*.yaml: torchvision's depths,
    /// for the celldeath method's 480×640 RGB tiles (ImageNet-normalised) and two classes.
    public static let presets: [String: ResNetConfig] = {
        let depths: [(Int, Block, [Int])] = [(18, .basic, [2, 2, 2, 2]), (34, .basic, [3, 4, 6, 3]), (50, .bottleneck, [3, 4, 6, 3])]
        var presets: [String: ResNetConfig] = [:]
        for (depth, block, layers) in depths {
            presets["resnet\(depth)"] = ResNetConfig(name: "resnet\(depth)", block: block, layers: layers, inputSize: 480, inputWidth: 640,
                                                     inputNormalization: .imagenet)
            // The celldeath method's network: fastai's head.
            presets["celldeath-resnet\(depth)"] = ResNetConfig(name: "celldeath-resnet\(depth)", block: block, layers: layers, inputSize: 480,
                                                               inputWidth: 640, head: .fastai, headHidden: 512, headDropout: 0.5,
                                                               inputNormalization: .imagenet)
        }
        return presets
    }()
}

