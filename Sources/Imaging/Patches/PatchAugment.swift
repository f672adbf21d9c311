import Determinism
import Foundation

/// Training-time transforms of one patch (DESIGN item 7): random rotation in ±maxDegrees with
/// bilinear sampling, random horizontal/vertical flips, then per-patch z-score normalisation.
/// The random draws depend only on (seed, epoch, sample index): see `AugmentParams.draw`.
public struct AugmentParams: Equatable, Sendable {
    /// Rotation angle in degrees (counter-clockwise as displayed, i.e. with y pointing down the
    /// content turns from +x towards -y).
    public var degrees: Double
    public var flipHorizontal: Bool
    public var flipVertical: Bool

    public init(degrees: Double = 0, flipHorizontal: Bool = false, flipVertical: Bool = false) {
        self.degrees = degrees; self.flipHorizontal = flipHorizontal; self.flipVertical = flipVertical
    }

    public static let identity = AugmentParams()

    /// Deterministic draw for one sample: the same (seed, epoch, index) always give the same
    /// transform, whatever rank or batch the sample lands in.
    public static func draw(seed: UInt64, epoch: Int, index: Int, maxDegrees: Double = 10) -> AugmentParams {
        var rng = SplitMix64(seed: seed, UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(index)))
        let degrees = (rng.nextUnit() * 2 - 1) * maxDegrees
        let bits = rng.next()
        return AugmentParams(degrees: degrees, flipHorizontal: bits & 1 == 1, flipVertical: bits & 2 == 2)
    }
}

public enum PatchTransform {
    /// Converts raw intensities to Float.
    @inline(__always)
    public static func toFloat(_ src: UnsafeBufferPointer<UInt16>, _ dst: UnsafeMutableBufferPointer<Float>) {
        precondition(dst.count >= src.count)
        for i in 0..<src.count { dst[i] = Float(src[i]) }
    }

    /// Rotates `src` (size×size) about the patch centre ((size-1)/2, (size-1)/2) by `params.degrees`
    /// with bilinear interpolation (samples beyond the edge are mirrored, reflect-101, like the patch
    /// padding), then flips. Writes `dst`; `src` and `dst` must not overlap.
    /// With 0° the rotation is skipped, so flips alone are exact permutations.
    public static func augment(_ params: AugmentParams, size: Int,
                               src: UnsafeBufferPointer<Float>, dst: UnsafeMutableBufferPointer<Float>) {
        precondition(src.count >= size * size && dst.count >= size * size)
        let fh = params.flipHorizontal, fv = params.flipVertical
        @inline(__always) func dstIndex(_ x: Int, _ y: Int) -> Int {
            (fv ? size - 1 - y : y) * size + (fh ? size - 1 - x : x)
        }
        if params.degrees == 0 {
            for y in 0..<size { for x in 0..<size { dst[dstIndex(x, y)] = src[y * size + x] } }
            return
        }
        let theta = params.degrees * Double.pi / 180
        let c = cos(theta), s = sin(theta)
        let center = Double(size - 1) / 2
        // Forward (on screen, y down, counter-clockwise): d' = (c·dx + s·dy, -s·dx + c·dy).
        // Each output pixel samples the input at the inverse map: d = (c·dx' - s·dy', s·dx' + c·dy').
        for y in 0..<size {
            let dy = Double(y) - center
            for x in 0..<size {
                let dx = Double(x) - center
                let u = c * dx - s * dy + center
                let v = s * dx + c * dy + center
                let x0f = u.rounded(.down), y0f = v.rounded(.down)
                let ax = Float(u - x0f), ay = Float(v - y0f)
                let x0 = Int(x0f), y0 = Int(y0f)
                let xa = PatchExtractor.reflect(x0, size), xb = PatchExtractor.reflect(x0 + 1, size)
                let ya = PatchExtractor.reflect(y0, size), yb = PatchExtractor.reflect(y0 + 1, size)
                let top = src[ya * size + xa] * (1 - ax) + src[ya * size + xb] * ax
                let bottom = src[yb * size + xa] * (1 - ax) + src[yb * size + xb] * ax
                dst[dstIndex(x, y)] = top * (1 - ay) + bottom * ay
            }
        }
    }

    /// (v − mean) / std in place with given statistics (a flat source, std ≤ 1e-6, becomes all zeros):
    /// how `input_normalization: image` patches are scaled in training and whole fields in `netosis
    /// maps`, which must agree to the bit for the sliding-window pass to equal per-patch forwards.
    public static func standardize(_ values: UnsafeMutableBufferPointer<Float>, mean: Float, std: Float) {
        let inv: Float = std > 1e-6 ? 1 / std : 0
        for j in values.indices { values[j] = (values[j] - mean) * inv }
    }

    /// Per-patch z-score in place: (v - mean) / std (population std). A flat patch becomes all zeros.
    public static func zScore(_ values: UnsafeMutableBufferPointer<Float>) {
        let n = values.count
        guard n > 0 else { return }
        var sum = 0.0
        for v in values { sum += Double(v) }
        let mean = sum / Double(n)
        var ss = 0.0
        for v in values { let d = Double(v) - mean; ss += d * d }
        let std = (ss / Double(n)).squareRoot()
        let m = Float(mean)
        let inv: Float = std > 1e-6 ? Float(1 / std) : 0
        for i in 0..<n { values[i] = (values[i] - m) * inv }
    }
}
