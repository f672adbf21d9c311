import Imaging
import Neural

extension BatchLoader.Normalization {
    /// How patches must be scaled for `model` (its `input_normalization`), checked against what
    /// `dataset` holds: an image-normalised network needs the per-image statistics of format 3.
    static func of(_ model: ModelConfig, for dataset: PatchDataset) throws -> Self {
        switch model.inputNormalization {
        case .patch: return .patch
        case .image:
            if let problem = dataset.imageStatisticsProblem {
                throw TrainError("\(dataset.path ?? "patches"): model '\(model.name)' normalises by image statistics, but the file \(problem)")
            }
            return .image
        case .imagenet:
            guard dataset.channels == 3 else {
                throw TrainError("\(dataset.path ?? "patches"): model '\(model.name)' normalises RGB input with ImageNet statistics, but the file holds \(dataset.channels)-channel samples")
            }
            return .imagenet
        }
    }
}
