import Foundation
import Imaging
import Neural
import Storage

/// The PL counter's stage 1 over a whole image: the window network (a sequential model trained on
/// image-normalised patches) applied to every valid window in one sliding-window pass, giving class
/// probabilities [H − S + 1, W − S + 1, classes] for an H × W image and an S × S window.
struct StageOneMaps {
    let pass: SlidingWindowPass
    let checkpoint: String

    init(checkpoint: String) throws {
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
    func mapSize(height: Int, width: Int) -> (height: Int, width: Int) { (height - window + 1, width - window + 1) }

    /// Probabilities for every window of the image, z-scored with the image's own statistics as the
    /// training patches were.
    func maps(of image: GrayImage, path: String) throws -> (values: [Float], height: Int, width: Int) {
        guard image.height >= window, image.width >= window else {
            throw ImageError(path: path, problem: "image is \(image.width)×\(image.height) pixels, smaller than the \(window)×\(window) window of stage 1")
        }
        let (mean, std) = image.statistics
        let inv: Float = std > 1e-6 ? 1 / std : 0
        let scaled = image.pixels.map { (Float($0) - mean) * inv }
        let out = try pass.run(scaled, height: image.height, width: image.width, softmax: true)
        return (out.scores, out.height, out.width)
    }
}
