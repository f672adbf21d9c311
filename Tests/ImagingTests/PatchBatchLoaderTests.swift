import Foundation
import Storage
import XCTest
@testable import Imaging

final class PatchBatchLoaderTests: XCTestCase {
    let size = 16
    let n = 23

    /// Patch i: a gradient plus i, so every patch differs and is not flat.
    func makeDataset() -> (PatchDataset, [UInt16]) {
        var pixels: [UInt16] = []
        for i in 0..<n { for p in 0..<(size * size) { pixels.append(UInt16(100 * i + (p % size) * 3 + (p / size) * 7 + (p * p) % 5)) } }
        let labels = (0..<n).map { Int8($0 % 3) }
        let split = (0..<n).map { UInt8($0 % 5 == 0 ? 2 : ($0 % 5 == 1 ? 1 : 0)) }
        return (PatchDataset(patches: pixels, labels: labels, split: split, patchSize: size), pixels)
    }

    func testEpochOrderIsASeededPermutationOfTheSplit() {
        let (data, _) = makeDataset()
        let loader = BatchLoader(dataset: data, split: .train, batchSize: 4, seed: 5, augment: false)
        let train = data.rows(in: .train)
        XCTAssertEqual(train, (0..<n).filter { $0 % 5 >= 2 })
        let e0 = loader.indices(for: 0), e1 = loader.indices(for: 1)
        XCTAssertEqual(e0.sorted(), train)
        XCTAssertEqual(e1.sorted(), train)
        XCTAssertNotEqual(e0, e1, "epochs reshuffle")
        XCTAssertEqual(e0, BatchLoader(dataset: data, split: .train, batchSize: 4, seed: 5, augment: false).indices(for: 0))
        XCTAssertNotEqual(e0, BatchLoader(dataset: data, split: .train, batchSize: 4, seed: 6, augment: false).indices(for: 0))
        XCTAssertEqual(BatchLoader(dataset: data, split: .val, batchSize: 4, seed: 5, augment: false, shuffle: false)
                        .indices(for: 3), data.rows(in: .val))
    }

    func testRankShardsAreDisjointEqualSizedAndCoverTheSplit() {
        let (data, _) = makeDataset()
        let loader = BatchLoader(dataset: data, split: nil, batchSize: 3, seed: 1, augment: false)
        for world in [2, 3, 4] {
            let shards = (0..<world).map { loader.indices(for: 2, rank: $0, worldSize: world) }
            let per = (n + world - 1) / world
            XCTAssertTrue(shards.allSatisfy { $0.count == per }, "world \(world): \(shards.map(\.count))")
            XCTAssertEqual(Set(shards.joined()), Set(0..<n))
            // Interleaving the shards gives back the padded global order.
            let global = loader.indices(for: 2)
            for k in 0..<(per * world) { XCTAssertEqual(shards[k % world][k / world], global[k % n]) }
            XCTAssertEqual(loader.batchCount(rank: 0, worldSize: world), (per + 2) / 3)
        }
        let unpadded = BatchLoader(dataset: data, split: nil, batchSize: 3, seed: 1, augment: false, padShards: false)
        let shards = (0..<4).map { unpadded.indices(for: 0, rank: $0, worldSize: 4) }
        XCTAssertEqual(shards.map(\.count).reduce(0, +), n)
        XCTAssertEqual(Set(shards.joined()).count, n)
    }

    func testFillWritesNormalisedPatchesAndLabelsInVisitingOrder() throws {
        let (data, pixels) = makeDataset()
        let batch = 4
        let loader = BatchLoader(dataset: data, split: .train, batchSize: batch, seed: 3, augment: false)
        var input = [Float](repeating: .nan, count: batch * size * size)
        var labels: [Int32] = []
        let order = loader.indices(for: 0)
        var seen: [Int] = []
        for b in 0..<loader.batchCount() {
            let filled = try input.withUnsafeMutableBufferPointer {
                try loader.fill(batch: b, epoch: 0, into: $0, labels: &labels)
            }
            XCTAssertEqual(filled, min(batch, order.count - b * batch))
            XCTAssertEqual(labels.count, filled)
            for s in 0..<filled {
                let row = order[b * batch + s]
                seen.append(row)
                XCTAssertEqual(labels[s], Int32(data.labels[row]))
                var expected = pixels[row * size * size..<(row + 1) * size * size].map(Float.init)
                expected.withUnsafeMutableBufferPointer { PatchTransform.zScore($0) }
                for p in 0..<(size * size) { XCTAssertEqual(input[s * size * size + p], expected[p], accuracy: 1e-5) }
            }
        }
        XCTAssertEqual(seen, order)
    }

    func testAugmentedBatchesAreDeterministicAndMatchThePerSampleTransform() throws {
        let (data, pixels) = makeDataset()
        func batch(_ seed: UInt64, epoch: Int) throws -> ([Float], [Int32], [Int]) {
            let loader = BatchLoader(dataset: data, split: nil, batchSize: 5, seed: seed, augment: true)
            var input = [Float](repeating: 0, count: 5 * size * size)
            var labels: [Int32] = []
            try input.withUnsafeMutableBufferPointer { _ = try loader.fill(batch: 1, epoch: epoch, into: $0, labels: &labels) }
            return (input, labels, Array(loader.indices(for: epoch)[5..<10]))
        }
        let (a, la, rows) = try batch(11, epoch: 2)
        let (b, lb, _) = try batch(11, epoch: 2)
        XCTAssertEqual(a, b)
        XCTAssertEqual(la, lb)
        XCTAssertNotEqual(a, try batch(11, epoch: 3).0)
        // Sample 0 of the batch equals augment(draw(seed, epoch, row)) then z-score.
        let row = rows[0]
        let src = pixels[row * size * size..<(row + 1) * size * size].map(Float.init)
        var expected = [Float](repeating: 0, count: size * size)
        src.withUnsafeBufferPointer { s in expected.withUnsafeMutableBufferPointer { d in
            PatchTransform.augment(AugmentParams.draw(seed: 11, epoch: 2, index: row), size: size, src: s, dst: d)
            PatchTransform.zScore(d)
        } }
        for p in 0..<(size * size) { XCTAssertEqual(a[p], expected[p], accuracy: 1e-5) }
    }

    func testFileBackedDatasetReadsByHyperslab() throws {
        let (memory, pixels) = makeDataset()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("patch-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("p.h5").path
        do {
            let file = try HDF5File.create(path)
            try FileHeader(PatchesSchema.format, config: "{}").write(to: file)
            try file.setAttribute("classes", "[\"other\",\"non-NETotic\",\"NETotic\"]")
            try file.write("patches", pixels, shape: [n, size, size],
                           options: DatasetOptions(chunk: [1, size, size], deflate: 4, shuffle: true))
            try file.write("labels", memory.labels)
            try file.write("split", memory.split)
            try file.write("image_index", (0..<n).map { Int32($0 / 4) })
        }
        let data = try PatchDataset(path: path)
        XCTAssertEqual(data.count, n)
        XCTAssertEqual(data.patchSize, size)
        XCTAssertEqual(data.imageIndex[9], 2)
        XCTAssertEqual(data.classCounts(), memory.classCounts())
        for row in [0, 7, n - 1] { XCTAssertEqual(try data.patch(row), try memory.patch(row)) }
        let fromFile = BatchLoader(dataset: data, split: .train, batchSize: 6, seed: 2, augment: true)
        let fromMemory = BatchLoader(dataset: memory, split: .train, batchSize: 6, seed: 2, augment: true)
        var a = [Float](repeating: 0, count: 6 * size * size), b = a
        var la: [Int32] = [], lb: [Int32] = []
        try a.withUnsafeMutableBufferPointer { _ = try fromFile.fill(batch: 0, epoch: 1, into: $0, labels: &la) }
        try b.withUnsafeMutableBufferPointer { _ = try fromMemory.fill(batch: 0, epoch: 1, into: $0, labels: &lb) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(la, lb)
    }

    func testOpeningSomethingElseNamesTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("patch-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("other.h5").path
        do { let f = try HDF5File.create(path); try f.setAttribute("format", "netosis.results") }
        XCTAssertThrowsError(try PatchDataset(path: path)) { error in
            XCTAssertTrue("\(error)".contains("other.h5") && "\(error)".contains("netosis.patches"), "\(error)")
        }
    }
}
