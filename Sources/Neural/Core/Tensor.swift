import Foundation

/// A dense float32 array with a shape. Image tensors are channels-last (NHWC) throughout the
/// engine: a pixel's channels are contiguous, so 1×1 convolutions are one GEMM over the batch
/// and a dense block's layers can read a prefix of the channels of one shared buffer.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var scalars: [Float]

    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "tensor shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// Normally distributed values (mean 0, standard deviation `std`) from a seeded generator.
    public init(randomNormal shape: [Int], std: Float = 1, generator: inout SeededGenerator) {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = std * generator.nextNormal() }
        self.init(shape: shape, scalars: values)
    }

    public var count: Int { scalars.count }

    /// NCHW → NHWC (for data that comes from PyTorch or HDF5 files laid out channels-first).
    public static func fromNCHW(_ values: [Float], n: Int, c: Int, h: Int, w: Int) -> Tensor {
        var out = [Float](repeating: 0, count: values.count)
        for i in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            out[((i * h + y) * w + x) * c + ch] = values[((i * c + ch) * h + y) * w + x]
        } } } }
        return Tensor(shape: [n, h, w, c], scalars: out)
    }

    /// NHWC → NCHW values.
    public func toNCHW() -> [Float] {
        precondition(shape.count == 4)
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        var out = [Float](repeating: 0, count: scalars.count)
        for i in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            out[((i * c + ch) * h + y) * w + x] = scalars[((i * h + y) * w + x) * c + ch]
        } } } }
        return out
    }
}

/// Errors of the neural engine, each naming what a user must fix.
public enum NeuralError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(tensor: String, file: String, expected: [Int], found: [Int])
    case missingTensor(tensor: String, file: String)
    case unreadableWeights(file: String, detail: String)
    case nonFiniteLoss(step: Int, value: Float)
    case badInput(String)
    case badConfig(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(tensor, file, expected, found):
            return "\(file): tensor '\(tensor)' has shape \(found), the model expects \(expected)"
        case let .missingTensor(tensor, file):
            return "\(file): tensor '\(tensor)' is missing (the file does not match the model configuration)"
        case let .unreadableWeights(file, detail):
            return "\(file): cannot read weights (\(detail)); the file may be truncated or not a netosis checkpoint"
        case let .nonFiniteLoss(step, value):
            return "training stopped at step \(step): the loss is \(value) (not finite); lower the learning rate or check the input data"
        case let .badInput(message), let .badConfig(message):
            return message
        }
    }
}

/// A learnable tensor and its gradient. `shape` is the PyTorch shape (what checkpoints store);
/// convolution kernels are kept internally as [out, kh, kw, in] (see `Conv2D`).
public final class Parameter {
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    public var grad: [Float]
    /// BatchNorm running statistics are state, not learnable: optimizers skip them.
    public let trainable: Bool
    /// Weight decay applies to this tensor (not to BatchNorm scales/shifts or biases when configured so).
    public var decays: Bool

    public init(name: String, shape: [Int], value: [Float], trainable: Bool = true, decays: Bool = true) {
        precondition(shape.reduce(1, *) == value.count, "\(name): shape \(shape) vs \(value.count) values")
        self.name = name
        self.shape = shape
        self.value = value
        self.grad = trainable ? [Float](repeating: 0, count: value.count) : []
        self.trainable = trainable
        self.decays = decays
    }

    public var count: Int { value.count }

    /// True for convolution kernels, whose values are kept as [out, kh, kw, in] while `shape`
    /// (and every file) uses PyTorch's [out, in, kh, kw].
    public var isConvKernel = false

    /// Values (or gradient) in PyTorch's layout.
    public func torchLayout(_ values: [Float]? = nil) -> [Float] {
        let source = values ?? value
        guard isConvKernel, shape[2] * shape[3] > 1 else { return source }
        let (o, i, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        var out = [Float](repeating: 0, count: source.count)
        for a in 0..<o { for b in 0..<i { for y in 0..<kh { for x in 0..<kw {
            out[((a * i + b) * kh + y) * kw + x] = source[((a * kh + y) * kw + x) * i + b]
        } } } }
        return out
    }

    /// Converts values given in PyTorch's layout to the internal one.
    public func internalLayout(fromTorch source: [Float]) -> [Float] {
        guard isConvKernel, shape[2] * shape[3] > 1 else { return source }
        let (o, i, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        var out = [Float](repeating: 0, count: source.count)
        for a in 0..<o { for b in 0..<i { for y in 0..<kh { for x in 0..<kw {
            out[((a * kh + y) * kw + x) * i + b] = source[((a * i + b) * kh + y) * kw + x]
        } } } }
        return out
    }

    public func zeroGrad() {
        if trainable { grad.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    }
}

/// Deterministic generator (SplitMix64) so the same seed gives the same weights and masks everywhere.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    private var spareNormal: Float?

    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

    /// Standard normal (Box–Muller).
    public mutating func nextNormal() -> Float {
        if let spare = spareNormal { spareNormal = nil; return spare }
        let u1 = max(Double(next() >> 11) * (1.0 / Double(1 << 53)), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        let r = (-2 * Foundation.log(u1)).squareRoot()
        spareNormal = Float(r * Foundation.sin(2 * Double.pi * u2))
        return Float(r * Foundation.cos(2 * Double.pi * u2))
    }
}

/// An aligned float buffer that grows on demand and never shrinks: activations and scratch
/// live in these so that a training step allocates nothing once the first step has run.
public final class FloatBuffer {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 16)
        pointer = FloatBuffer.allocate(self.capacity)
    }

    deinit { free(pointer) }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        posix_memalign(&raw, 64, count * MemoryLayout<Float>.stride)
        return raw!.bindMemory(to: Float.self, capacity: count)
    }

    /// Makes room for `count` floats (contents are discarded when it grows).
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            free(pointer)
            capacity = count
            pointer = FloatBuffer.allocate(count)
        }
        return pointer
    }

    public func zero(_ count: Int) { reserve(count).update(repeating: 0, count: count) }
}
