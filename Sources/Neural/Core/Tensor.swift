import Determinism

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
    public init(randomNormal shape: [Int], std: Float = 1, generator: inout SplitMix64) {
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
