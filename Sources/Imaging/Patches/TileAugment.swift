import Foundation
import Determinism

/// Training-time transforms of a colour tile (H × W × C, channels last, any aspect): horizontal and
/// vertical flips and lighting — fastai's `aug_transforms` as the celldeath recipe uses them, without
/// its small rotations and zooms. Draws depend only on (seed, epoch, sample), like `AugmentParams`.
public struct TileAugment: Equatable, Sendable {
    public var flipHorizontal: Bool
    public var flipVertical: Bool
    /// Intensity map v ↦ (v − 127.5)·contrast + 127.5 + brightness·255 on 8-bit values.
    public var contrast: Double, brightness: Double

    public static let identity = TileAugment(flipHorizontal: false, flipVertical: false, contrast: 1, brightness: 0)

    /// `lighting` L: with probability 0.75, contrast log-uniform in [1/(1+L), 1+L] and brightness
    /// uniform in [−L/2, L/2] (fastai's `max_lighting`, p_lighting 0.75); 0 turns lighting off.
    public static func draw(seed: UInt64, epoch: Int, index: Int, lighting: Double) -> TileAugment {
        var rng = SplitMix64(seed: seed, 0x5449_4C45, UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(index)))   // "TILE"
        let bits = rng.next()
        var t = TileAugment(flipHorizontal: bits & 1 == 1, flipVertical: bits & 2 == 2, contrast: 1, brightness: 0)
        let u = rng.nextUnit(), v = rng.nextUnit(), p = rng.nextUnit()
        if lighting > 0 && p < 0.75 {
            let span = log(1 + lighting)
            t.contrast = exp((2 * u - 1) * span)
            t.brightness = (v - 0.5) * lighting
        }
        return t
    }

    /// Applies the flips and lighting from `src` to `dst` (no overlap).
    public func apply(height: Int, width: Int, channels: Int, src: UnsafeBufferPointer<Float>, dst: UnsafeMutableBufferPointer<Float>) {
        precondition(src.count >= height * width * channels && dst.count >= height * width * channels)
        let gain = Float(contrast), offset = Float(127.5 * (1 - contrast) + brightness * 255)
        for y in 0..<height {
            let sy = flipVertical ? height - 1 - y : y
            for x in 0..<width {
                let sx = flipHorizontal ? width - 1 - x : x
                let s = (sy * width + sx) * channels, d = (y * width + x) * channels
                for c in 0..<channels { dst[d + c] = src[s + c] * gain + offset }
            }
        }
    }
}

extension PatchTransform {
    /// ImageNet statistics of 0…1 RGB (torchvision's and fastai's `imagenet_stats`).
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406], imagenetStd: [Float] = [0.229, 0.224, 0.225]

    /// 8-bit RGB values (channels last) to ImageNet-normalised floats in place: (v/255 − mean_c)/std_c.
    public static func imagenet(_ values: UnsafeMutableBufferPointer<Float>) {
        precondition(values.count % 3 == 0)
        let scale = imagenetStd.map { 1 / (255 * $0) }, shift = zip(imagenetMean, imagenetStd).map { $0 / $1 }
        for i in stride(from: 0, to: values.count, by: 3) {
            for c in 0..<3 { values[i + c] = values[i + c] * scale[c] - shift[c] }
        }
    }
}
