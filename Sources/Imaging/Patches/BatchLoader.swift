import Determinism

/// Assembles training batches from a `PatchDataset` into caller-owned memory (DESIGN item 7).
///
/// ```swift
/// let data = try PatchDataset(path: "patches.h5")
/// let loader = BatchLoader(dataset: data, split: .train, batchSize: 32, seed: 42, augment: true)
/// var input = [Float](repeating: 0, count: 32 * 1 * 112 * 112)   // [B, 1, 112, 112]
/// var labels: [Int32] = []
/// for epoch in 0..<epochs {
///     for b in 0..<loader.batchCount(rank: rank, worldSize: size) {
///         let n = try input.withUnsafeMutableBufferPointer {
///             try loader.fill(batch: b, epoch: epoch, rank: rank, worldSize: size, into: $0, labels: &labels)
///         }
///         // train on input[0..<n*112*112], labels[0..<n]
///     }
/// }
/// ```
///
/// Order: every rank computes the same permutation of the split's rows for an epoch
/// (Fisher–Yates driven by SplitMix64(seed, epoch)), pads it by wrapping so all ranks get the same
/// number of samples (like PyTorch's DistributedSampler), and takes every `worldSize`-th entry
/// starting at `rank`. `batchSize` is per rank (global batch = batchSize × worldSize).
/// Augmentation is keyed by (seed, epoch, dataset row), so a sample is transformed identically
/// whichever rank or batch it falls in. Each sample is z-scored after augmentation.
/// A loader is not thread-safe (it owns scratch buffers); use one per thread.
public final class BatchLoader {
    public let dataset: PatchDataset
    /// Rows of the chosen split, ascending.
    public let rows: [Int]
    public let batchSize: Int
    public let seed: UInt64
    public let augment: Bool
    public let shuffle: Bool
    /// Drop a last partial batch (per rank).
    public let dropLast: Bool
    /// Pad by wrapping so every rank sees the same number of samples (needed for lock-step
    /// all-reduce). Turn off for evaluation, where duplicates would distort metrics.
    public let padShards: Bool
    public let maxDegrees: Double
    /// Colour tiles: fastai's `max_lighting` (see `TileAugment`); 0 off.
    public let lighting: Double
    /// How each sample is scaled after augmentation.
    public let normalization: Normalization

    /// `patch`: z-score every sample on its own (the paper's OL preprocessing). `image`: z-score with
    /// its source image's statistics (`/images/mean`, `/images/std`), as a sliding-window pass over
    /// the z-scored field sees it. `imagenet`: 8-bit RGB scaled to 0…1 and standardised per channel
    /// with ImageNet's statistics (what networks initialised from ImageNet weights expect).
    public enum Normalization: String, Sendable { case patch, image, imagenet }

    private var raw: UnsafeMutableBufferPointer<UInt16>
    private var work: UnsafeMutableBufferPointer<Float>
    /// Visiting orders of the current epoch, one per (rank, world size): threads of one process
    /// take turns as ranks of their own.
    private var cachedEpoch = -1
    private var cachedOrders: [[Int]: [Int]] = [:]

    public init(dataset: PatchDataset, split: PatchSplit?, batchSize: Int, seed: UInt64, augment: Bool,
                shuffle: Bool = true, dropLast: Bool = false, padShards: Bool = true, maxDegrees: Double = 10,
                lighting: Double = 0, normalization: Normalization = .patch) {
        precondition(batchSize > 0, "BatchLoader: batchSize must be > 0")
        precondition(normalization != .image || !dataset.imageMean.isEmpty,
                     "BatchLoader: image normalisation needs /images/mean and /images/std (check with imageStatisticsProblem)")
        precondition(normalization != .imagenet || dataset.channels == 3, "BatchLoader: ImageNet normalisation needs 3 channels")
        self.normalization = normalization
        self.lighting = lighting
        self.dataset = dataset
        self.rows = dataset.rows(in: split)
        self.batchSize = batchSize; self.seed = seed; self.augment = augment
        self.shuffle = shuffle; self.dropLast = dropLast; self.padShards = padShards; self.maxDegrees = maxDegrees
        raw = .allocate(capacity: dataset.sampleSize)
        work = .allocate(capacity: dataset.sampleSize)
    }

    deinit { raw.deallocate(); work.deallocate() }

    /// Floats per sample in the batch buffer (H × W × C, channels last; 1 × S × S for nucleus patches).
    public var sampleSize: Int { dataset.sampleSize }

    /// This rank's dataset rows for `epoch`, in visiting order.
    public func indices(for epoch: Int, rank: Int = 0, worldSize: Int = 1) -> [Int] {
        Self.order(rows, seed: seed, epoch: epoch, rank: rank, worldSize: worldSize, shuffle: shuffle, padShards: padShards)
    }

    /// The sampler every training data source shares: `rows` shuffled by (seed, epoch), padded by
    /// wrapping to a multiple of `worldSize` (if `padShards`), every `worldSize`-th from `rank`.
    public static func order(_ rows: [Int], seed: UInt64, epoch: Int, rank: Int, worldSize: Int, shuffle: Bool = true,
                             padShards: Bool = true) -> [Int] {
        precondition(worldSize > 0 && rank >= 0 && rank < worldSize, "BatchLoader: rank \(rank) of \(worldSize)")
        var order = rows
        if shuffle && order.count > 1 {
            var rng = SplitMix64(seed: seed, 0x5348_5546, UInt64(bitPattern: Int64(epoch)))  // "SHUF"
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, rng.nextInt(below: i + 1))
            }
        }
        guard worldSize > 1 else { return order }
        if padShards && !order.isEmpty {
            let total = (order.count + worldSize - 1) / worldSize * worldSize
            var k = 0
            while order.count < total { order.append(order[k % rows.count]); k += 1 }
        }
        return stride(from: rank, to: order.count, by: worldSize).map { order[$0] }
    }

    /// Samples this rank visits per epoch.
    public func samplesPerEpoch(rank: Int = 0, worldSize: Int = 1) -> Int {
        if worldSize == 1 || rows.isEmpty { return rows.count }
        if padShards { return (rows.count + worldSize - 1) / worldSize }
        return rows.count / worldSize + (rank < rows.count % worldSize ? 1 : 0)
    }

    /// Batches per epoch for this rank.
    public func batchCount(rank: Int = 0, worldSize: Int = 1) -> Int {
        let n = samplesPerEpoch(rank: rank, worldSize: worldSize)
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize
    }

    /// Fills batch `batch` of `epoch` for this rank into `input` ([B, 1, S, S] floats, B ≥ samples in
    /// the batch) and `labels` (replaced; capacity reused). Returns the number of samples written
    /// (batchSize, or fewer for the last batch). No per-sample allocation.
    @discardableResult
    public func fill(batch: Int, epoch: Int, rank: Int = 0, worldSize: Int = 1,
                     into input: UnsafeMutableBufferPointer<Float>, labels: inout [Int32]) throws -> Int {
        if cachedEpoch != epoch { cachedOrders = [:]; cachedEpoch = epoch }
        let cachedIndices = cachedOrders[[rank, worldSize]] ?? indices(for: epoch, rank: rank, worldSize: worldSize)
        cachedOrders[[rank, worldSize]] = cachedIndices
        let start = batch * batchSize
        precondition(batch >= 0 && start < max(cachedIndices.count, 1) || cachedIndices.isEmpty,
                     "BatchLoader: batch \(batch) beyond \(batchCount(rank: rank, worldSize: worldSize)) batches")
        let end = min(start + batchSize, cachedIndices.count)
        guard start < end else { labels.removeAll(keepingCapacity: true); return 0 }
        return try fill(rows: cachedIndices[start..<end], epoch: epoch, into: input, labels: &labels)
    }

    /// Fills the given dataset rows (in order) into `input`, with this loader's augmentation and
    /// normalisation. Returns the number of samples written.
    @discardableResult
    public func fill<C: Collection>(rows selected: C, epoch: Int, into input: UnsafeMutableBufferPointer<Float>,
                                    labels: inout [Int32]) throws -> Int where C.Element == Int {
        let area = sampleSize
        precondition(input.count >= selected.count * area,
                     "BatchLoader: buffer holds \(input.count) floats, batch needs \(selected.count * area)")
        labels.removeAll(keepingCapacity: true)
        var slot = 0
        for row in selected {
            try dataset.readPatch(row, into: raw)
            let out = UnsafeMutableBufferPointer(rebasing: input[slot * area..<(slot + 1) * area])
            if augment && dataset.isSquareMonochrome {
                PatchTransform.toFloat(UnsafeBufferPointer(raw), work)
                let params = AugmentParams.draw(seed: seed, epoch: epoch, index: row, maxDegrees: maxDegrees)
                PatchTransform.augment(params, size: dataset.patchSize, src: UnsafeBufferPointer(work), dst: out)
            } else if augment {
                PatchTransform.toFloat(UnsafeBufferPointer(raw), work)
                TileAugment.draw(seed: seed, epoch: epoch, index: row, lighting: lighting)
                    .apply(height: dataset.height, width: dataset.width, channels: dataset.channels, src: UnsafeBufferPointer(work), dst: out)
            } else {
                PatchTransform.toFloat(UnsafeBufferPointer(raw), out)
            }
            switch normalization {
            case .patch: PatchTransform.zScore(out)
            case .image:
                let i = Int(dataset.imageIndex[row])
                PatchTransform.standardize(out, mean: dataset.imageMean[i], std: dataset.imageStd[i])
            case .imagenet: PatchTransform.imagenet(out)
            }
            labels.append(Int32(dataset.labels[row]))
            slot += 1
        }
        return slot
    }
}
