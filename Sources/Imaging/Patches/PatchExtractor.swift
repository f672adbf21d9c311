/// Cuts square patches out of an image, centred on a point, with reflect padding at the borders.
///
/// Geometry: a patch of size S centred on (cx, cy) covers columns `x0 ..< x0 + S` with
/// `x0 = round(cx) - S/2` (rows likewise), so the centre pixel lands at patch index (S/2, S/2).
/// Pixels outside the image are mirrored without repeating the edge pixel (numpy `reflect`,
/// OpenCV `BORDER_REFLECT_101`): column -1 reads column 1, column W reads column W-2.
public enum PatchExtractor {
    /// The DESIGN patch size (the DenseNet input).
    public static let defaultSize = 112

    /// Mirror index `i` into 0..<n (reflect-101; any distance, also for patches wider than the image).
    @inline(__always)
    public static func reflect(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        if n <= 1 { return 0 }
        let period = 2 * (n - 1)
        var m = i % period
        if m < 0 { m += period }
        return m < n ? m : period - m
    }

    /// Top-left corner of the patch of `size` centred on (cx, cy).
    @inline(__always)
    public static func origin(centerX cx: Double, centerY cy: Double, size: Int) -> (x: Int, y: Int) {
        (Int((cx).rounded(.toNearestOrAwayFromZero)) - size / 2, Int((cy).rounded(.toNearestOrAwayFromZero)) - size / 2)
    }

    /// Writes the `size`×`size` patch centred on (cx, cy) into `out` (row-major, no allocation
    /// beyond a small stack buffer of column indices).
    public static func cut(_ image: GrayImage, centerX cx: Double, centerY cy: Double, size: Int = defaultSize,
                           into out: UnsafeMutableBufferPointer<UInt16>) {
        precondition(out.count >= size * size, "PatchExtractor: buffer holds \(out.count), need \(size * size)")
        precondition(image.width > 0 && image.height > 0, "PatchExtractor: empty image")
        let (x0, y0) = origin(centerX: cx, centerY: cy, size: size)
        let width = image.width, height = image.height
        image.pixels.withUnsafeBufferPointer { src in
            if x0 >= 0, y0 >= 0, x0 + size <= width, y0 + size <= height {
                // Fully inside: straight row copies.
                for r in 0..<size {
                    let from = src.baseAddress! + (y0 + r) * width + x0
                    (out.baseAddress! + r * size).update(from: from, count: size)
                }
                return
            }
            withUnsafeTemporaryAllocation(of: Int.self, capacity: size) { columns in
                for c in 0..<size { columns[c] = reflect(x0 + c, width) }
                for r in 0..<size {
                    let rowBase = reflect(y0 + r, height) * width
                    let dst = out.baseAddress! + r * size
                    for c in 0..<size { dst[c] = src[rowBase + columns[c]] }
                }
            }
        }
    }

    /// Convenience: the patch as a new array.
    public static func cut(_ image: GrayImage, centerX cx: Double, centerY cy: Double,
                           size: Int = defaultSize) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: size * size) { buffer, count in
            cut(image, centerX: cx, centerY: cy, size: size, into: buffer)
            count = size * size
        }
    }
}
