import Foundation
import Imaging
import Neural
import Storage

/// The PL counter's stage 1 over a whole image: the window network (a sequential model trained on
/// image-normalised patches) applied to every window in one sliding-window pass, giving class
/// probabilities per window position.
struct StageOneMaps {
    let pass: SlidingWindowPass
    let checkpoint: String
    var border: MapBorder

    init(checkpoint: String, border: MapBorder = .valid) throws {
        self.border = border
        let model = try WeightIO.loadModel(path: checkpoint)
        guard let net = model as? SequentialNet else {
            throw FileFormatError(path: checkpoint, problem: "holds \(model.architecture) '\(model.name)'; the PL counter's stage 1 is a sequential window network (config/models/pl-stage1.yaml)")
        }
        guard net.config.inputNormalization == .image, net.inputChannels == 1 else {
            throw FileFormatError(path: checkpoint, problem: "model '\(net.name)' takes \(net.inputChannels)-channel input normalised per \(net.config.inputNormalization.rawValue); "
                                  + "a sliding-window pass needs one channel normalised per image (input_normalization: image), or windows would see different scalings")
        }
        do { pass = try SlidingWindowPass(net) } catch { throw FileFormatError(path: checkpoint, problem: "\(error)") }
        self.checkpoint = checkpoint
    }

    var window: Int { pass.net.inputSize }
    var classes: Int { pass.net.numClasses }

    /// The map's size for an image of `height` × `width`.
    func mapSize(height: Int, width: Int) -> (height: Int, width: Int) {
        border == .valid ? (height - window + 1, width - window + 1) : (height, width)
    }

    /// Probabilities for every window of the image, z-scored with the image's own statistics as the
    /// training patches were.
    func maps(of image: GrayImage, path: String) throws -> (values: [Float], height: Int, width: Int) {
        guard image.height >= window, image.width >= window else {
            throw ImageError(path: path, problem: "image is \(image.width)×\(image.height) pixels, smaller than the \(window)×\(window) window of stage 1")
        }
        var scaled: [Float], (h, w) = (image.height, image.width)
        switch border {
        case .valid:
            scaled = image.pixels.map(Float.init)
        case .reflect:
            // Mirrored as PatchExtractor cuts patches at the border: window (y, x) of the padded image is
            // then exactly the patch prepare would cut centred on pixel (x, y).
            let before = window / 2
            (h, w) = (image.height + window - 1, image.width + window - 1)
            scaled = [Float](repeating: 0, count: h * w)
            let columns = (0..<w).map { PatchExtractor.reflect($0 - before, image.width) }
            for y in 0..<h {
                let source = PatchExtractor.reflect(y - before, image.height) * image.width
                for x in 0..<w { scaled[y * w + x] = Float(image.pixels[source + columns[x]]) }
            }
        }
        let (mean, std) = image.statistics
        scaled.withUnsafeMutableBufferPointer { PatchTransform.standardize($0, mean: mean, std: std) }
        let out = try pass.run(scaled, height: h, width: w, softmax: true)
        return (out.scores, out.height, out.width)
    }
}

/// Which windows stage 1 sees. `valid`: only windows inside the image (the paper's geometry, a
/// 481×641 map of a 512×672 field): objects within half a window of the border are seen only in
/// part. `reflect`: the image mirrored at its border as `prepare` cuts patches there, so the map has
/// the image's size and its pixel (y, x) is stage 1's answer for the patch centred on it.
public enum MapBorder: String, CaseIterable, Codable, Sendable { case valid, reflect }
