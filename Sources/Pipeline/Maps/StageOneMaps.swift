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
        try check(image, path: path)
        switch border {
        case .valid:
            var scaled = image.pixels.map(Float.init)
            let (mean, std) = image.statistics
            scaled.withUnsafeMutableBufferPointer { PatchTransform.standardize($0, mean: mean, std: std) }
            let out = try pass.run(scaled, height: image.height, width: image.width, softmax: true)
            return (out.scores, out.height, out.width)
        case .reflect:
            return try maps(of: image, tile: ImageTile(x: 0, y: 0, width: image.width, height: image.height))
        }
    }

    /// The `reflect` maps of one tile of a larger image, as if the tile were a field of its own: scaled
    /// by the tile's own statistics (as prepare scaled the training fields), its windows seeing the
    /// neighbouring tiles' pixels, and the image mirrored only at the image's own border. The whole
    /// image as one tile is `maps(of:)` with `reflect`.
    func maps(of image: GrayImage, tile: ImageTile) throws -> (values: [Float], height: Int, width: Int) {
        // Mirrored as PatchExtractor cuts patches at the border: window (y, x) of the padded tile is
        // then exactly the patch prepare would cut centred on pixel (tile.x + x, tile.y + y).
        let before = window / 2
        let (h, w) = (tile.height + window - 1, tile.width + window - 1)
        var scaled = [Float](repeating: 0, count: h * w)
        let columns = (0..<w).map { PatchExtractor.reflect(tile.x + $0 - before, image.width) }
        for y in 0..<h {
            let source = PatchExtractor.reflect(tile.y + y - before, image.height) * image.width
            for x in 0..<w { scaled[y * w + x] = Float(image.pixels[source + columns[x]]) }
        }
        let (mean, std) = tile.statistics(of: image)
        scaled.withUnsafeMutableBufferPointer { PatchTransform.standardize($0, mean: mean, std: std) }
        let out = try pass.run(scaled, height: h, width: w, softmax: true)
        return (out.scores, out.height, out.width)
    }

    private func check(_ image: GrayImage, path: String) throws {
        guard image.height >= window, image.width >= window else {
            throw ImageError(path: path, problem: "image is \(image.width)×\(image.height) pixels, smaller than the \(window)×\(window) window of stage 1")
        }
    }
}

/// A rectangle of an image in pixels.
struct ImageTile: Equatable {
    let x: Int, y: Int, width: Int, height: Int

    /// Mean and population standard deviation of the tile's pixels.
    func statistics(of image: GrayImage) -> (mean: Float, std: Float) {
        image.statistics(x: x, y: y, width: width, height: height)
    }
}

/// Which windows stage 1 sees. `valid`: only windows inside the image (the paper's geometry, a
/// 481×641 map of a 512×672 field): objects within half a window of the border are seen only in
/// part. `reflect`: the image mirrored at its border as `prepare` cuts patches there, so the map has
/// the image's size and its pixel (y, x) is stage 1's answer for the patch centred on it.
public enum MapBorder: String, CaseIterable, Codable, Sendable { case valid, reflect }
