import Foundation
import Imaging
import Neural
import Storage

/// The PL counter applied to one image (`screen --method pl`): stage 1's maps of the image, stage 2's
/// counts from them. Which maps follows from stage 2's input size: the image's own size means
/// `reflect`, the image less the window (plus one) means `valid` — the two geometries `netosis maps`
/// trains stage 2 on —, and an image a whole number of stage 2's fields wide and high is counted
/// field by field. Not thread-safe (the models keep their buffers).
struct PixelLevelCounter {
    let stage1: StageOneMaps
    let stage2: any Model
    let stage2Path: String

    init(stage1 path: String, stage2 path2: String) throws {
        stage1 = try StageOneMaps(checkpoint: path)
        stage2 = try WeightIO.loadModel(path: path2)
        stage2Path = path2
        guard stage2.inputChannels == stage1.classes, stage2.numClasses == MapsFile.countNames.count else {
            throw FileFormatError(path: path2, problem: "model '\(stage2.name)' takes \(stage2.inputChannels)-channel maps and gives \(stage2.numClasses) outputs; "
                                  + "a PL stage 2 for this stage 1 takes its \(stage1.classes) class maps and gives \(MapsFile.countNames.count) counts (\(MapsFile.countNames.joined(separator: ", ")))")
        }
    }

    /// How stage 2 reads an image of this size: whole (its own geometry, `reflect` or `valid` maps), or
    /// cut into a grid of stage-2-sized tiles whose counts add up — a 4032×3072 well is 6×6 fields of
    /// 672×512, the fields the paper's counters were trained on.
    func layout(height: Int, width: Int, path: String) throws -> Layout {
        let (h, w) = (stage2.inputSize, stage2.inputWidth)
        if h == height, w == width { return .whole(.reflect) }
        if h == height - stage1.window + 1, w == width - stage1.window + 1 { return .whole(.valid) }
        if height % h == 0, width % w == 0 { return .tiles(rows: height / h, columns: width / w) }
        throw ImageError(path: path, problem: "image is \(width)×\(height) px but stage 2 (\(stage2Path)) reads \(w)×\(h) maps: it counts fields of "
                         + "\(w)×\(h) px (maps --border reflect) or \(w + stage1.window - 1)×\(h + stage1.window - 1) px (--border valid), "
                         + "or images that are a whole number of \(w)×\(h) fields (counted field by field)")
    }

    enum Layout: Equatable {
        case whole(MapBorder)
        case tiles(rows: Int, columns: Int)
    }

    /// Stage 2's counts [non-NETotic, NETotic] of the image (real numbers; the caller rounds). A tiled
    /// image's counts are its fields' counts summed; each field's maps see its neighbours' pixels.
    func count(_ image: GrayImage, path: String) throws -> [Double] {
        var maps = stage1
        switch try layout(height: image.height, width: image.width, path: path) {
        case let .whole(border):
            maps.border = border
            return try counts(of: maps.maps(of: image, path: path))
        case let .tiles(rows, columns):
            var total = [Double](repeating: 0, count: stage2.numClasses)
            let (h, w) = (stage2.inputSize, stage2.inputWidth)
            for r in 0..<rows {
                for c in 0..<columns {
                    let field = try counts(of: maps.maps(of: image, tile: ImageTile(x: c * w, y: r * h, width: w, height: h)))
                    for k in total.indices { total[k] += field[k] }
                }
            }
            return total
        }
    }

    private func counts(of m: (values: [Float], height: Int, width: Int)) -> [Double] {
        let out = m.values.withUnsafeBufferPointer {
            stage2.forward($0.baseAddress!, batch: 1, height: m.height, width: m.width, training: false)
        }
        return (0..<stage2.numClasses).map { Double(out[$0]) }
    }

    /// The configuration recorded in results.h5: both models and the rule that picks the border.
    func json() throws -> String {
        let encoder = ResultsFile.encoder()
        let one = String(decoding: try encoder.encode(stage1.pass.net.modelConfig), as: UTF8.self)
        let two = String(decoding: try encoder.encode(stage2.modelConfig), as: UTF8.self)
        return "{\"stage1\":\(one),\"stage2\":\(two),\"stage2_checkpoint\":\(String(decoding: try JSONEncoder().encode(stage2Path), as: UTF8.self))}"
    }
}
