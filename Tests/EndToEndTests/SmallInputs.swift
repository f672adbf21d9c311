import Determinism
import Foundation
import Imaging
import Neural
import Storage

/// Small, valid inputs for the end-to-end tests: a densenet-tiny checkpoint, a patches file,
/// and 16-bit fields with bright discs where nuclei are.
enum SmallInputs {
    static func checkpoint(_ path: String, seed: UInt64 = 11) throws -> DenseNet {
        let model = try DenseNet(named: "densenet-tiny", seed: seed)
        try WeightIO.save(model, to: path)
        return model
    }

    /// `count` random patches of `size`² px from one image, all in the test split.
    static func patches(_ path: String, count: Int, size: Int, seed: UInt64 = 3) throws {
        var generator = SplitMix64(seed: seed)
        let pixels = (0..<(count * size * size)).map { _ in UInt16.random(in: 100...4000, using: &generator) }
        let writer = try PatchesWriter.create(path: path, patchSize: size)
        let id = ImageIdentity(name: "a", plate: "p", well: "A01", field: "", group: "p")
        try writer.append(PatchesImageRow(identity: id, path: "a.tif", width: 100, height: 100, objects: count),
                          patches: pixels, labels: [Int8](repeating: 1, count: count),
                          centers: [Float](repeating: Float(size / 2), count: 2 * count), split: .test)
        try writer.writeAttributes(header: FileHeader(PatchesSchema.format, config: "{}"),
                                   settings: PatchesSettings(splitBy: .image, seed: 0, labelRadius: 6, mode: .segment,
                                                             valFraction: 0.1, testFraction: 0.2), runs: "[{}]")
        try writer.flush()
    }

    /// A 16-bit field with a radius-8 disc at each centre.
    static func field(_ centres: [(Double, Double)], width: Int = 160, height: Int = 120) -> GrayImage {
        var image = GrayImage(width: width, height: height, bitDepth: 16, fill: 200)
        for (cx, cy) in centres {
            for y in 0..<height { for x in 0..<width where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= 64 {
                image[x, y] = 3000
            } }
        }
        return image
    }
}
