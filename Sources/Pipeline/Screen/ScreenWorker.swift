import Foundation
import Imaging
import Neural
import Storage

/// How a worker classifies the objects it segments.
enum ScreenMethod {
    /// Object level (`ol`): one patch per nucleus, classified by the network.
    case network(PatchClassifier)
    /// The ImageJ rule baseline (`rule`): a solidity threshold per object, no network.
    case rule(SolidityRule)
    /// The PL counter (`pl`): stage-1 maps of the whole image, stage-2 counts; no objects.
    case pixelLevel(PixelLevelCounter)
}

/// Screens one image: read (assembling a well from its fields), segment, cut one patch per nucleus
/// centred on its centroid (as `prepare` cuts training patches), classify in batches, count — or, for
/// the rule method, classify each object by its solidity.
/// Never throws: a bad image comes back as a failed row whose error a biologist can act on.
final class ScreenWorker {
    let method: ScreenMethod
    let segmenter: Segmenter
    let grid: FieldGrid
    let memory: ImageMemory?
    let checkpointID: String
    let rank: Int

    init(method: ScreenMethod, segmenter: Segmenter, grid: FieldGrid, memory: ImageMemory?,
         checkpointID: String, rank: Int) {
        self.method = method; self.segmenter = segmenter; self.grid = grid; self.memory = memory
        self.checkpointID = checkpointID; self.rank = rank
    }

    /// `progress` sees (patches classified, patches in the image).
    func screen(_ item: ScreenItem, progress: ((Int, Int) -> Void)? = nil) -> ScreenResult {
        let start = Date()
        var row = ScreenedImage(name: item.name, plate: item.plate, well: item.well, field: item.field, path: item.pathText,
                                status: "failed", error: "", width: 0, height: 0, counts: [0, 0, 0],
                                meanProbabilities: [.nan, .nan, .nan], checkpointID: checkpointID, seconds: 0, rank: rank)
        defer { row.seconds = Date().timeIntervalSince(start) }
        if let problem = item.problem {
            row.error = problem
            row.seconds = Date().timeIntervalSince(start)
            return ScreenResult(image: row)
        }
        do {
            var mark = Date()
            func lap(_ stage: Int) { let now = Date(); row.stageSeconds[stage] += now.timeIntervalSince(mark); mark = now }
            let image = try load(item)
            lap(0)
            row.width = image.width; row.height = image.height
            if case let .pixelLevel(counter) = method {
                // Whole-image counts: no segmentation, no objects, no "other" count.
                let counts = try counter.count(image, path: item.pathText)
                lap(2)
                row.counts = [0] + counts.map { max(0, Int($0.rounded())) }
                row.status = "ok"
                row.seconds = Date().timeIntervalSince(start)
                return ScreenResult(image: row)
            }
            let nuclei = segmenter.segment(image).nuclei
            lap(1)
            try FaultPoint.pass("screen-image")  // tests: a rank killed (or an I/O error) mid-image
            let k = ScreenClasses.names.count
            let probabilities = try classify(image, nuclei, classes: k, progress: progress)
            var objects = ObjectRows()
            var sums = [Double](repeating: 0, count: k)
            for (i, n) in nuclei.enumerated() {
                let p = Array(probabilities[i * k..<(i + 1) * k])
                // A non-finite patch cannot happen with integer pixels; argmax of NaN would be 0 "other".
                let c = p.indices.max { p[$0] < p[$1] } ?? 0
                objects.x.append(Float(n.centroidX)); objects.y.append(Float(n.centroidY))
                objects.bbox += [Int32(n.minX), Int32(n.minY), Int32(n.maxX), Int32(n.maxY)]
                objects.area.append(Int32(n.area)); objects.intensity.append(Float(n.meanIntensity))
                objects.solidity.append(Float(n.solidity)); objects.classes.append(Int8(c))
                objects.probabilities += p
                row.counts[c] += 1
                for j in 0..<k { sums[j] += Double(p[j]) }
            }
            if !nuclei.isEmpty { row.meanProbabilities = sums.map { $0 / Double(nuclei.count) } }
            lap(2)
            row.status = "ok"
            row.seconds = Date().timeIntervalSince(start)
            return ScreenResult(image: row, objects: objects)
        } catch {
            row.error = Self.reason(error, item: item)
            row.seconds = Date().timeIntervalSince(start)
            return ScreenResult(image: row)
        }
    }

    /// Class probabilities [nuclei, k]: the network's softmax, or the rule's class as one-hot.
    private func classify(_ image: GrayImage, _ nuclei: [Nucleus], classes k: Int,
                          progress: ((Int, Int) -> Void)?) throws -> [Float] {
        switch method {
        case .pixelLevel:
            preconditionFailure("the PL counter counts whole images")
        case let .rule(rule):
            var out = [Float](repeating: 0, count: nuclei.count * k)
            for (i, n) in nuclei.enumerated() { out[i * k + rule.classify(n)] = 1 }
            return out
        case let .network(classifier):
            let size = classifier.model.inputSize
            var patch = [UInt16](repeating: 0, count: size * size)
            let scores = try classifier.classify(count: nuclei.count, channels: 1, height: size, width: size,
                                                 progress: { progress?($0, nuclei.count) }) { first, n, raw in
                raw.removeAll(keepingCapacity: true)
                raw.reserveCapacity(n * size * size)
                for i in first..<first + n {
                    patch.withUnsafeMutableBufferPointer {
                        PatchExtractor.cut(image, centerX: nuclei[i].centroidX, centerY: nuclei[i].centroidY, size: size, into: $0)
                    }
                    for v in patch { raw.append(Float(v)) }
                }
            }
            return PatchClassifier.probabilities(scores.logits, classes: k)
        }
    }

    func load(_ item: ScreenItem) throws -> GrayImage {
        let image: GrayImage
        if item.assembled {
            let fields = try item.paths.map { path -> GrayImage in
                try memory?.check(path)
                return try TIFFReader.read(path)
            }
            image = try grid.assemble(fields, names: item.paths)
        } else {
            try memory?.check(item.paths[0])
            image = try TIFFReader.read(item.paths[0])
        }
        guard image.width >= 2, image.height >= 2 else {
            throw ImageError(path: item.pathText, problem: "image is \(image.width)×\(image.height) pixels; too small to segment")
        }
        return image
    }

    /// One line naming the file and what is wrong with it.
    static func reason(_ error: Error, item: ScreenItem) -> String {
        InputFiles.describe(error, path: item.paths.count == 1 ? item.paths[0] : item.pathText)
    }
}
