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
