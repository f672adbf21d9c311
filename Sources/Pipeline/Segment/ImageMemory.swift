import Cluster
import Foundation
import Imaging

/// Whether an image can be segmented within this rank's memory, decided from its TIFF headers
/// before any pixel is read (a field of 2^30 px would need ≈ 17 GB).
struct ImageMemory: Sendable {
    /// Peak bytes segmentation holds per pixel (image, float copies, masks, labels, distances):
    /// measured ≈ 12.5 B/px on a 4032×3072 well (≈ 155 MB above the process's base), rounded up.
    static let bytesPerPixel = 16.0

    /// Bytes this rank may use (nil: no limit found).
    let available: Double?
    let explanation: String

    init(_ budget: MemoryBudget) {
        available = budget.bytesPerRank
        explanation = budget.explanation
    }

    /// Throws a one-line error when `count` patches of `side`² px cut from the image at `path` would
    /// not fit: uint16 pixels, their encoded copy for the gather, and rank 0's copy (≈ 6 B/px).
    func checkPatches(_ count: Int, side: Int, path: String) throws {
        guard let available else { return }
        let need = Double(count) * Double(side) * Double(side) * 6 + MemoryBudget.runtimeOverhead
        guard need > available else { return }
        throw ImageError(path: path, problem: "\(count) patches of \(side)×\(side) px need ≈ \(MemoryBudget.text(bytes: need)) "
            + "but this rank may use \(MemoryBudget.text(bytes: available)) (\(explanation)): use a smaller --patch-size "
            + "or fewer --negatives")
    }

    /// Throws a one-line error when the image at `path` would not fit.
    func check(_ path: String) throws {
        guard let available else { return }
        let info = try TIFFReader.info(path)
        let need = Double(info.width) * Double(info.height) * ImageMemory.bytesPerPixel + MemoryBudget.runtimeOverhead
        guard need > available else { return }
        throw ImageError(path: path, problem: "is \(info.width)×\(info.height) px; segmenting it needs ≈ "
            + "\(MemoryBudget.text(bytes: need)) but this rank may use \(MemoryBudget.text(bytes: available)) "
            + "(\(explanation)): run fewer ranks per node or ask for more memory")
    }
}
