import Determinism
import Foundation
import Imaging
import Neural
import Storage

/// A small learnable patch set: 32×32 patches of three classes that differ in shape and
/// brightness (0 other: dim noise, 1 non-NETotic: small bright disc, 2 NETotic: large diffuse
/// blob), spread over three images, one per split.
enum TrainInputs {
    static func patches(_ path: String, train: Int = 240, val: Int = 60, test: Int = 60, size: Int = 32,
                        seed: UInt64 = 5, classes: [String]? = nil) throws {
        var g = SplitMix64(seed: seed)
        let writer = try PatchesWriter.create(path: path, patchSize: size)
        for (name, count, split) in [("tr", train, PatchSplit.train), ("va", val, .val), ("te", test, .test)] where count > 0 {
            var pixels: [UInt16] = [], labels: [Int8] = []
            for i in 0..<count {
                let label = i % 3
                let cx = Double(size) / 2 + g.nextUnit() * 4 - 2, cy = Double(size) / 2 + g.nextUnit() * 4 - 2
                let radius = label == 1 ? 4 + g.nextUnit() * 2 : 9 + g.nextUnit() * 3
                let peak = label == 0 ? 300.0 : (label == 1 ? 3000 : 1500)
                for y in 0..<size { for x in 0..<size {
                    let d2 = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)) / (radius * radius)
                    let signal = label == 0 ? 0 : (label == 1 ? (d2 <= 1 ? peak : 0) : peak * Foundation.exp(-d2))
                    pixels.append(UInt16(max(0, min(65535, 200 + signal + Double(g.nextNormal()) * 60))))
                } }
                labels.append(Int8(label))
            }
            let id = ImageIdentity(name: name, plate: "p", well: "A01", field: name, group: name)
            try writer.append(PatchesImageRow(identity: id, path: name + ".tif", width: 100, height: 100, objects: count),
                              patches: pixels, labels: labels, centers: [Float](repeating: Float(size / 2), count: 2 * count),
                              split: split)
        }
        try writer.writeAttributes(header: FileHeader(PatchesSchema.format, config: "{}"),
                                   settings: PatchesSettings(splitBy: .image, seed: 0, labelRadius: 6, mode: .segment,
                                                             valFraction: 0.2, testFraction: 0.2), runs: "[{}]")
        try writer.flush()
    }
}
