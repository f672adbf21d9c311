/// A BatchNorm+ReLU that `Conv2D` applies while lowering its input: per channel
/// y = max(0, x·scale + shift), with the scale and shift of `BatchNorm2D.affine(inference:)`.
public struct InputAffine {
    public let scale: UnsafePointer<Float>
    public let shift: UnsafePointer<Float>

    public init(scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) { self.scale = scale; self.shift = shift }

    @inline(__always)
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count c: Int) {
        BatchNorm2D.scaleShift(x, y, scale: scale, shift: shift, count: c, relu: true)
    }
}
