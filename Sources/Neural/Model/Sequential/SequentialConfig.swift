import Foundation
import Storage

/// A plain stack of layers as config/models/*.yaml describes it (`architecture: sequential`): the
/// paper's small Keras CNNs (PL counter stages, phenotype CNN). One list item per layer, in the
/// order of a PyTorch `nn.Sequential`, whose indices name the state_dict keys (`3/weight`):
///
///     layers:
///       - conv: {filters: 64, kernel: 3}       # stride 1, padding 0 ("valid", Keras' default), bias
///       - relu
///       - maxpool: 2                           # kernel 2, stride 2 (or {kernel: 3, stride: 2})
///       - dropout: 0.25
///       - flatten                              # channel-major, as torch.flatten of NCHW
///       - dense: 256                           # with bias (Keras' and PyTorch's default)
///       - batchnorm
///       - softmax                              # last only: the engine returns logits, losses apply it
///       - globalavgpool                        # mean of each channel over the map → features
///       - globalsumpool                        # sum of each channel over the map (counting: a sum of local evidence)
///
/// `input_size` is the input's height (and width, unless `input_width` says otherwise: the PL
/// counter's stage 2 reads a whole field's maps). `input_normalization` says how pixels are scaled
/// before the network: `patch` (default) z-scores every patch on its own; `image` z-scores with the
/// statistics of the whole source image, which keeps a window network shift-equivariant, so a
/// sliding-window pass over a field gives exactly what per-window forwards of its patches give.
public struct SequentialConfig: Codable, Equatable, Sendable {
    public var name: String
    public var inputChannels: Int
    public var inputSize: Int
    public var inputWidth: Int
    public var inputNormalization: InputNormalization
    public var layers: [LayerSpec]

    /// The network's outputs: the units of its last dense layer (or the channels of its last conv).
    public var numClasses: Int {
        for layer in layers.reversed() {
            switch layer {
            case let .dense(units): return units
            case let .conv(filters, _, _, _, _): return filters
            default: continue
            }
        }
        return 0
    }

    public enum LayerSpec: Codable, Equatable, Sendable {
        case conv(filters: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
        case batchNorm
        case relu
        case maxPool(kernel: Int, stride: Int)
        case avgPool(kernel: Int, stride: Int)
        case dropout(rate: Double)
        case flatten
        case dense(units: Int)
        case softmax
        case globalAvgPool
        case globalSumPool

        /// The YAML key (or bare word) of each kind.
        public var kind: String {
            switch self {
            case .conv: "conv"
            case .batchNorm: "batchnorm"
            case .relu: "relu"
            case .maxPool: "maxpool"
            case .avgPool: "avgpool"
            case .dropout: "dropout"
            case .flatten: "flatten"
            case .dense: "dense"
            case .softmax: "softmax"
            case .globalAvgPool: "globalavgpool"
            case .globalSumPool: "globalsumpool"
            }
        }
        static let kinds = ["conv", "batchnorm", "relu", "maxpool", "avgpool", "dropout", "flatten", "dense", "softmax", "globalavgpool", "globalsumpool"]

        public init(from decoder: Decoder) throws {
            if let word = try? decoder.singleValueContainer().decode(String.self) {
                switch word {
                case "relu": self = .relu
                case "flatten": self = .flatten
                case "batchnorm": self = .batchNorm
                case "softmax": self = .softmax
                case "globalavgpool": self = .globalAvgPool
                case "globalsumpool": self = .globalSumPool
                default:
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                        "'\(word)' is not a layer without settings (those are relu, flatten, batchnorm, softmax, globalavgpool, globalsumpool; others: conv, maxpool, avgpool, dropout, dense)"))
                }
                return
            }
            let c = try decoder.container(keyedBy: LayerKey.self)
            guard c.allKeys.count == 1, let key = c.allKeys.first else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                    "a layer is one of \(Self.kinds.joined(separator: ", ")), with its settings (e.g. 'conv: {filters: 64, kernel: 3}')"))
            }
            switch key.stringValue {
            case "conv":
                let s = try c.nestedContainer(keyedBy: ConvKey.self, forKey: key)
                try Self.rejectUnknown(c, key, ConvKey.allCases.map(\.stringValue))
                let kernel = try s.decode(Int.self, forKey: .kernel)
                var padding = 0
                if let word = try? s.decode(String.self, forKey: .padding) {
                    switch word {
                    case "valid": padding = 0
                    case "same": padding = (kernel - 1) / 2
                    default: throw s.problem(.padding, "padding is a number of pixels, 'valid' or 'same' (got '\(word)')")
                    }
                } else {
                    padding = try s.decodeIfPresent(Int.self, forKey: .padding) ?? 0
                }
                self = .conv(filters: try s.decode(Int.self, forKey: .filters), kernel: kernel,
                             stride: try s.decodeIfPresent(Int.self, forKey: .stride) ?? 1, padding: padding,
                             bias: try s.decodeIfPresent(Bool.self, forKey: .bias) ?? true)
            case "maxpool", "avgpool":
                let (kernel, stride) = try Self.window(c, key)
                self = key.stringValue == "maxpool" ? .maxPool(kernel: kernel, stride: stride) : .avgPool(kernel: kernel, stride: stride)
            case "dropout":
                self = .dropout(rate: try c.decode(Double.self, forKey: key))
            case "dense":
                self = .dense(units: try c.decode(Int.self, forKey: key))
            default:
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [key], debugDescription:
                    "unknown layer '\(key.stringValue)' (known: \(Self.kinds.joined(separator: ", ")))"))
            }
        }

        /// `maxpool: 2` or `maxpool: {kernel: 3, stride: 2}` (stride defaults to the kernel, as in Keras and PyTorch).
        private static func window(_ c: KeyedDecodingContainer<LayerKey>, _ key: LayerKey) throws -> (Int, Int) {
            if let kernel = try? c.decode(Int.self, forKey: key) { return (kernel, kernel) }
            let s = try c.nestedContainer(keyedBy: PoolKey.self, forKey: key)
            try rejectUnknown(c, key, PoolKey.allCases.map(\.stringValue))
            let kernel = try s.decode(Int.self, forKey: .kernel)
            return (kernel, try s.decodeIfPresent(Int.self, forKey: .stride) ?? kernel)
        }

        /// A typed container lists only the keys it knows: read the settings' keys untyped.
        private static func rejectUnknown(_ c: KeyedDecodingContainer<LayerKey>, _ key: LayerKey, _ known: [String]) throws {
            let settings = try c.nestedContainer(keyedBy: LayerKey.self, forKey: key)
            if let bad = settings.allKeys.first(where: { !known.contains($0.stringValue) }) {
                throw DecodingError.dataCorrupted(.init(codingPath: settings.codingPath + [bad], debugDescription:
                    "unknown setting (known: \(known.joined(separator: ", ")))"))
            }
        }

        public func encode(to encoder: Encoder) throws {
            switch self {
            case .relu, .flatten, .batchNorm, .softmax, .globalAvgPool, .globalSumPool:
                var c = encoder.singleValueContainer()
                try c.encode(kind)
            case let .conv(filters, kernel, stride, padding, bias):
                var c = encoder.container(keyedBy: LayerKey.self)
                var s = c.nestedContainer(keyedBy: ConvKey.self, forKey: LayerKey("conv"))
                try s.encode(filters, forKey: .filters); try s.encode(kernel, forKey: .kernel)
                try s.encode(stride, forKey: .stride); try s.encode(padding, forKey: .padding)
                try s.encode(bias, forKey: .bias)
            case let .maxPool(kernel, stride), let .avgPool(kernel, stride):
                var c = encoder.container(keyedBy: LayerKey.self)
                var s = c.nestedContainer(keyedBy: PoolKey.self, forKey: LayerKey(kind))
                try s.encode(kernel, forKey: .kernel); try s.encode(stride, forKey: .stride)
            case let .dropout(rate):
                var c = encoder.container(keyedBy: LayerKey.self)
                try c.encode(rate, forKey: LayerKey("dropout"))
            case let .dense(units):
                var c = encoder.container(keyedBy: LayerKey.self)
                try c.encode(units, forKey: LayerKey("dense"))
            }
        }

        struct LayerKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        enum ConvKey: String, CodingKey, CaseIterable { case filters, kernel, stride, padding, bias }
        enum PoolKey: String, CodingKey, CaseIterable { case kernel, stride }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case architecture, name, inputChannels = "input_channels", inputSize = "input_size", layers
        case numClasses = "num_classes", inputWidth = "input_width", inputNormalization = "input_normalization"
    }

    /// How input pixels are scaled before the network (see the type's comment).
    /// How input samples are scaled: z-scored on their own (`patch`), with their source image's
    /// statistics (`image`), or 8-bit RGB standardised with ImageNet's channel statistics (`imagenet`).
    public enum InputNormalization: String, Codable, Sendable, CaseIterable {
        case patch, image, imagenet
    }

    public init(name: String, inputChannels: Int = 1, inputSize: Int, inputWidth: Int? = nil,
                inputNormalization: InputNormalization = .patch, layers: [LayerSpec]) {
        self.name = name; self.inputChannels = inputChannels; self.inputSize = inputSize
        self.inputWidth = inputWidth ?? inputSize; self.inputNormalization = inputNormalization; self.layers = layers
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let architecture = try c.decode(String.self, forKey: .architecture)
        guard architecture == "sequential" else { throw c.problem(.architecture, "architecture '\(architecture)' is not sequential") }
        name = try c.decode(String.self, forKey: .name)
        inputChannels = try c.decodeIfPresent(Int.self, forKey: .inputChannels) ?? 1
        inputSize = try c.decode(Int.self, forKey: .inputSize)
        inputWidth = try c.decodeIfPresent(Int.self, forKey: .inputWidth) ?? inputSize
        if let word = try c.decodeIfPresent(String.self, forKey: .inputNormalization) {
            guard let n = InputNormalization(rawValue: word) else {
                throw c.problem(.inputNormalization, "input_normalization is patch or image (got '\(word)')")
            }
            inputNormalization = n
        } else {
            inputNormalization = .patch
        }
        layers = try c.decode([LayerSpec].self, forKey: .layers)
        // num_classes may be stated for readability; it must then agree with the last layer.
        if let stated = try c.decodeIfPresent(Int.self, forKey: .numClasses), stated != numClasses {
            throw c.problem(.numClasses, "num_classes \(stated) differs from the last layer's \(numClasses) outputs")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("sequential", forKey: .architecture)
        try c.encode(name, forKey: .name)
        try c.encode(inputChannels, forKey: .inputChannels)
        try c.encode(inputSize, forKey: .inputSize)
        // Written only when they differ from the defaults, so earlier configurations keep their exact text.
        if inputWidth != inputSize { try c.encode(inputWidth, forKey: .inputWidth) }
        if inputNormalization != .patch { try c.encode(inputNormalization.rawValue, forKey: .inputNormalization) }
        try c.encode(layers, forKey: .layers)
    }

    /// The same network with another output count: the last dense layer's units.
    public func with(numClasses: Int) -> SequentialConfig {
        var copy = self
        if let i = copy.layers.lastIndex(where: { if case .dense = $0 { true } else { false } }) {
            copy.layers[i] = .dense(units: numClasses)
        }
        return copy
    }

    /// Shape checks layer by layer, with messages that name the layer (its index, as in the state_dict).
    public func validate() throws {
        func fail(_ m: String) -> NeuralError { .badConfig("model '\(name)': \(m)") }
        guard (1...16).contains(inputChannels) else { throw fail("input_channels must be in 1…16 (got \(inputChannels))") }
        guard (1...8192).contains(inputSize) else { throw fail("input_size must be in 1…8192 (got \(inputSize))") }
        guard (1...8192).contains(inputWidth) else { throw fail("input_width must be in 1…8192 (got \(inputWidth))") }
        guard !layers.isEmpty, layers.count <= 256 else { throw fail("layers must list 1…256 layers") }
        var shape = FeatureShape(height: inputSize, width: inputWidth, channels: inputChannels)
        for (i, layer) in layers.enumerated() {
            do { shape = try shape.after(layer) } catch let error as NeuralError {
                if case let .badConfig(m) = error { throw fail("layer \(i) (\(layer.kind)): \(m)") }
                throw error
            }
            if case .softmax = layer, i != layers.count - 1 { throw fail("layer \(i): softmax may only be the last layer") }
        }
        guard shape.isFlat else {
            throw fail("the network must end in class scores: add flatten and a dense layer (it ends in a \(shape) map)")
        }
        guard numClasses >= 1 else { throw fail("the network has no outputs") }
    }

    /// Parses YAML text; `source` names the file in messages.
    public static func parse(yaml: String, source: String = "model configuration") throws -> SequentialConfig {
        let config = try ConfigFile.decode(SequentialConfig.self, yaml: yaml, source: source)
        do { try config.validate() } catch { throw ConfigError(path: source, problem: "\(error)") }
        return config
    }
}

/// The per-image shape of a tensor between layers: a map (height × width × channels) or, after
/// flatten or dense, `channels` features (height = width = 1, `isFlat`).
public struct FeatureShape: Equatable, Sendable, CustomStringConvertible {
    public var height: Int, width: Int, channels: Int
    public var isFlat = false
    public var count: Int { height * width * channels }
    public var description: String { isFlat ? "\(channels) features" : "\(height)×\(width)×\(channels)" }

    /// The shape after `layer`, or why the layer cannot take this input.
    public func after(_ layer: SequentialConfig.LayerSpec) throws -> FeatureShape {
        func fail(_ m: String) -> NeuralError { .badConfig(m) }
        switch layer {
        case let .conv(filters, kernel, stride, padding, _):
            guard !isFlat else { throw fail("a convolution needs an image, it gets \(self) (after flatten)") }
            guard (1...4096).contains(filters), (1...31).contains(kernel), (1...16).contains(stride), (0..<kernel).contains(padding) else {
                throw fail("filters 1…4096, kernel 1…31, stride 1…16, padding 0…kernel−1 (got \(filters), \(kernel), \(stride), \(padding))")
            }
            let h = (height + 2 * padding - kernel) / stride + 1, w = (width + 2 * padding - kernel) / stride + 1
            guard height + 2 * padding >= kernel, width + 2 * padding >= kernel else {
                throw fail("a \(kernel)×\(kernel) kernel does not fit the \(self) input")
            }
            return FeatureShape(height: h, width: w, channels: filters)
        case let .maxPool(kernel, stride), let .avgPool(kernel, stride):
            guard !isFlat else { throw fail("pooling needs an image, it gets \(self)") }
            guard (1...64).contains(kernel), (1...64).contains(stride) else { throw fail("kernel and stride must be in 1…64") }
            guard height >= kernel, width >= kernel else { throw fail("a \(kernel)×\(kernel) window does not fit the \(self) input") }
            return FeatureShape(height: (height - kernel) / stride + 1, width: (width - kernel) / stride + 1, channels: channels)
        case let .dropout(rate):
            guard rate >= 0 && rate < 1 else { throw fail("rate must be in [0, 1) (got \(rate))") }
            return self
        case .relu, .batchNorm, .softmax:
            return self
        case .flatten:
            return FeatureShape(height: 1, width: 1, channels: count, isFlat: true)
        case .globalAvgPool, .globalSumPool:
            guard !isFlat else { throw fail("global pooling needs an image, it gets \(self)") }
            return FeatureShape(height: 1, width: 1, channels: channels, isFlat: true)
        case let .dense(units):
            guard isFlat else { throw fail("a dense layer needs features: put flatten before it (it gets a \(self) map)") }
            guard (1...1_000_000).contains(units) else { throw fail("units must be in 1…1000000 (got \(units))") }
            return FeatureShape(height: 1, width: 1, channels: units, isFlat: true)
        }
    }
}
