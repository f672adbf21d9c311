import Foundation
import Imaging
import Neural
import Storage

/// The PL counter applied to one image (`screen --method pl`): stage 1's maps of the whole image,
/// stage 2's counts from them. Which border the maps use follows from stage 2's input size: the
/// image's own size means `reflect`, the image less the window (plus one) means `valid` — the two
/// geometries `netosis maps` trains stage 2 on. Not thread-safe (the models keep their buffers).
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

    /// The border whose maps of an image of this size stage 2 reads, or why none does.
    func border(height: Int, width: Int, path: String) throws -> MapBorder {
        let (h, w) = (stage2.inputSize, stage2.inputWidth)
        if h == height, w == width { return .reflect }
        if h == height - stage1.window + 1, w == width - stage1.window + 1 { return .valid }
        throw ImageError(path: path, problem: "image is \(width)×\(height) px but stage 2 (\(stage2Path)) reads \(w)×\(h) maps: it counts fields of "
                         + "\(w)×\(h) px (maps --border reflect) or \(w + stage1.window - 1)×\(h + stage1.window - 1) px (--border valid)")
    }

    /// Stage 2's counts [non-NETotic, NETotic] of the image (real numbers; the caller rounds).
    func count(_ image: GrayImage, path: String) throws -> [Double] {
        var maps = stage1
        maps.border = try border(height: image.height, width: image.width, path: path)
        let m = try maps.maps(of: image, path: path)
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
