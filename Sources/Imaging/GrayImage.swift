/// A single-channel image, row-major, origin top-left: x = column, y = row.
/// 8-bit sources keep their values (0...255) in the 16-bit storage; `bitDepth` remembers which.
public struct GrayImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var bitDepth: Int
    public var pixels: [UInt16]

    public init(width: Int, height: Int, bitDepth: Int = 16, pixels: [UInt16]) {
        precondition(pixels.count == width * height, "GrayImage: \(pixels.count) pixels for \(width)×\(height)")
        self.width = width; self.height = height; self.bitDepth = bitDepth; self.pixels = pixels
    }

    public init(width: Int, height: Int, bitDepth: Int = 16, fill: UInt16 = 0) {
        self.init(width: width, height: height, bitDepth: bitDepth,
                  pixels: [UInt16](repeating: fill, count: width * height))
    }

    @inline(__always)
    /// Mean and population standard deviation of every pixel (what `input_normalization: image`
    /// networks are normalised with).
    public var statistics: (mean: Float, std: Float) {
        guard !pixels.isEmpty else { return (0, 0) }
        return statistics(x: 0, y: 0, width: width, height: height)
    }

    /// The same over a rectangle of the image (a field of a well, as `prepare` scaled it).
    public func statistics(x: Int, y: Int, width w: Int, height h: Int) -> (mean: Float, std: Float) {
        var sum = 0.0, sum2 = 0.0
        for row in y..<(y + h) {
            for v in pixels[(row * width + x)..<(row * width + x + w)] { let d = Double(v); sum += d; sum2 += d * d }
        }
        let n = Double(w * h), mean = sum / n
        return (Float(mean), Float(max(0, sum2 / n - mean * mean).squareRoot()))
    }

    public subscript(x: Int, y: Int) -> UInt16 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }
}
