import Foundation
import Imaging
import Neural
import Storage

/// Each scored tile's class probabilities (softmax of its logits), by dataset row.
struct TileProbabilities: Codable {
    let classes: Int
    var rows: [Int] = []
    var probabilities: [Float] = []

    init(classes: Int) { self.classes = classes }

    mutating func add(rows batch: ArraySlice<Int>, logits: UnsafePointer<Float>) {
        for (i, row) in batch.enumerated() {
            let z = logits + i * classes
            var m = z[0]
            for j in 1..<classes { m = max(m, z[j]) }
            var e = (0..<classes).map { Foundation.exp(Double(z[$0] - m)) }
            let s = e.reduce(0, +)
            for j in e.indices { e[j] /= s }
            rows.append(row); probabilities += e.map(Float.init)
        }
    }

    /// Every rank's share, in row order.
    static func merge(_ parts: [TileProbabilities], classes: Int) -> TileProbabilities {
        var all: [(Int, ArraySlice<Float>)] = []
        for p in parts { for (i, r) in p.rows.enumerated() { all.append((r, p.probabilities[(i * classes)..<((i + 1) * classes)])) } }
        all.sort { $0.0 < $1.0 }
        var merged = TileProbabilities(classes: classes)
        for (r, p) in all { merged.rows.append(r); merged.probabilities += p }
        return merged
    }

    func probability(at index: Int) -> ArraySlice<Float> { probabilities[(index * classes)..<((index + 1) * classes)] }
    func predicted(at index: Int) -> Int {
        let p = probability(at: index)
        return p.indices.max { p[$0] < p[$1] }! - p.startIndex
    }
}

/// Whole images' verdicts from their tiles: the mean of the tiles' probabilities (the celldeath
/// method's image call) and the majority vote of the tiles' classes (ties: the mean's class).
struct ImageVerdicts {
    struct Image {
        var index: Int
        var name: String
        var truth: Int
        var tiles: [Int]
        var meanProbability: [Double]
        var mean: Int
        var vote: Int
        var fields: [String: String]
    }
    var images: [Image] = []

    init(tiles: TileProbabilities, dataset: PatchDataset) {
        var byImage: [Int: [Int]] = [:]
        for (i, row) in tiles.rows.enumerated() { byImage[Int(dataset.imageIndex[row]), default: []].append(i) }
        for index in byImage.keys.sorted() {
            let members = byImage[index]!
            let (mean, meanClass, vote) = Self.call(members.map { Array(tiles.probability(at: $0)) })
            let firstRow = tiles.rows[members[0]]
            images.append(Image(index: index, name: index < dataset.imageNames.count ? dataset.imageNames[index] : "image \(index)",
                                truth: Int(dataset.labels[firstRow]), tiles: members.map { tiles.rows[$0] },
                                meanProbability: mean.map(Double.init), mean: meanClass, vote: vote,
                                fields: index < dataset.fields.count ? dataset.fields[index] : [:]))
        }
    }
}

extension ImageVerdicts {
    /// An image's call from its tiles' probabilities: their mean, its class, and the tiles' vote
    /// (a tie goes to the mean's class).
    static func call(_ tiles: [[Float]]) -> (mean: [Float], meanClass: Int, vote: Int) {
        let k = tiles[0].count
        var mean = [Float](repeating: 0, count: k), votes = [Int](repeating: 0, count: k)
        for p in tiles {
            for j in 0..<k { mean[j] += p[j] / Float(tiles.count) }
            votes[p.indices.max { p[$0] < p[$1] }!] += 1
        }
        let meanClass = mean.indices.max { mean[$0] < mean[$1] }!
        let top = votes.max()!
        return (mean, meanClass, votes.filter { $0 == top }.count > 1 ? meanClass : votes.firstIndex(of: top)!)
    }
}

/// Per-class metrics of one confusion matrix (JSON-friendly: nil where undefined).
public struct ClassMetrics: Codable, Sendable {
    public var samples: Int
    public var confusion: [[Int]]
    public var accuracy: Double?
    public var balancedAccuracy: Double?
    public var precision: [Double?]
    public var recall: [Double?]
    public var f1: [Double?]

    init(_ m: ConfusionMatrix) {
        func opt(_ x: Double) -> Double? { x.isNaN ? nil : x }
        samples = m.total
        confusion = (0..<m.classes).map { t in (0..<m.classes).map { m.count(truth: t, predicted: $0) } }
        accuracy = opt(m.accuracy); balancedAccuracy = opt(m.balancedAccuracy)
        precision = m.precision.map(opt); recall = m.recall.map(opt); f1 = m.f1.map(opt)
    }
}

/// `evaluate` on a tiles file: images called by mean probability and by vote, and the image-level
/// accuracy per value of every field (per cell line, per experiment, …).
public struct ImageLevelReport: Codable, Sendable {
    public var images: Int
    public var meanProbability: ClassMetrics
    public var vote: ClassMetrics
    /// field → value → (images, accuracy by mean probability).
    public var byField: [String: [String: GroupAccuracy]]

    public struct GroupAccuracy: Codable, Sendable { public var images: Int; public var accuracy: Double }

    init(_ verdicts: ImageVerdicts, classes: Int, fieldNames: [String]) {
        var mean = ConfusionMatrix(classes: classes), vote = ConfusionMatrix(classes: classes)
        for image in verdicts.images {
            mean.add(truth: image.truth, predicted: image.mean); vote.add(truth: image.truth, predicted: image.vote)
        }
        images = verdicts.images.count
        meanProbability = ClassMetrics(mean); self.vote = ClassMetrics(vote)
        var byField: [String: [String: GroupAccuracy]] = [:]
        for field in fieldNames where field != "index" {
            let groups = Dictionary(grouping: verdicts.images) { $0.fields[field] ?? "" }
            guard groups.count > 1 || fieldNames.count == 1 else { continue }   // a field with one value says nothing new
            byField[field] = groups.mapValues { members in
                GroupAccuracy(images: members.count, accuracy: Double(members.filter { $0.mean == $0.truth }.count) / Double(members.count))
            }
        }
        self.byField = byField
    }

    func lines(classes: [String]) -> [String] {
        func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "—" }
        var lines = ["whole images (\(images)): by mean tile probability accuracy \(f(meanProbability.accuracy)), "
                     + "by vote \(f(vote.accuracy))"]
        for (c, name) in classes.enumerated() {
            lines.append("  \(name): precision \(f(meanProbability.precision[c]))  recall \(f(meanProbability.recall[c]))  "
                         + "(confusion row \(meanProbability.confusion[c].map(String.init).joined(separator: " ")))")
        }
        for field in byField.keys.sorted() {
            let parts = byField[field]!.keys.sorted().map { "\($0) \(f(byField[field]![$0]!.accuracy)) (\(byField[field]![$0]!.images))" }
            lines.append("  accuracy by \(field): " + parts.joined(separator: ", "))
        }
        return lines
    }
}

/// One whole image's call (a row of `/images` in image-classification results).
struct ImageCall: Codable {
    var name: String
    var path = ""
    /// `ok`, or `failed` with `error` (one line).
    var status = "ok"
    var error = ""
    /// True class, or -1 when unknown (screening unlabelled images).
    var label: Int8 = -1
    /// Class of the mean tile probability, and of the tiles' vote; -1 for a failed image.
    var predicted: Int8 = -1, vote: Int8 = -1
    var probability: [Float]
    var tiles = 0
    var fields: [String: String] = [:]
}

/// One tile's call (a row of `/tiles`).
struct TileCall: Codable {
    var image: Int32
    /// Row in the tiles file (-1 when screened straight from images).
    var row: Int32 = -1
    var label: Int8 = -1
    var predicted: Int8
    var probability: [Float]
}

extension ImageVerdicts {
    /// The calls as results rows, and their tiles.
    func calls(tiles: TileProbabilities, dataset: PatchDataset) -> ([ImageCall], [TileCall]) {
        let rowOfImage = Dictionary(uniqueKeysWithValues: images.enumerated().map { ($1.index, Int32($0)) })
        let imageCalls = images.map { image in
            ImageCall(name: image.name, path: image.index < dataset.imagePaths.count ? dataset.imagePaths[image.index] : "",
                      label: Int8(image.truth), predicted: Int8(image.mean), vote: Int8(image.vote),
                      probability: image.meanProbability.map(Float.init), tiles: image.tiles.count, fields: image.fields)
        }
        let tileCalls = tiles.rows.indices.map { i in
            TileCall(image: rowOfImage[Int(dataset.imageIndex[tiles.rows[i]])]!, row: Int32(tiles.rows[i]), label: dataset.labels[tiles.rows[i]],
                     predicted: Int8(tiles.predicted(at: i)), probability: Array(tiles.probability(at: i)))
        }
        return (imageCalls, tileCalls)
    }
}

/// Per-image and per-tile calls of whole-image classification: the results.h5 family
/// (`format` netosis.results, `task` image-classification; docs/file-formats.md).
enum ImageResultsFile {
    static func write(images v: [ImageCall], tiles: [TileCall], classes: [String], checkpoint: String, config: [String: String],
                      to path: String) throws {
        let file = try HDF5File.create(path)
        let k = classes.count
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config, options: .sortedKeys), as: UTF8.self)
        try FileHeader(ResultsFile.format, config: json).write(to: file)
        try file.setAttribute("task", "image-classification")
        try file.setAttribute("classes", String(decoding: try JSONEncoder().encode(classes), as: UTF8.self))
        try file.setAttribute("checkpoint", checkpoint)
        let images = try file.createGroup("images")
        try images.writeStrings("name", v.map(\.name))
        try images.writeStrings("path", v.map(\.path))
        try images.writeStrings("status", v.map(\.status))
        try images.writeStrings("error", v.map(\.error))
        try images.write("label", v.map(\.label))
        try images.write("predicted", v.map(\.predicted))
        try images.write("predicted_vote", v.map(\.vote))
        try images.write("probability", v.flatMap(\.probability), shape: [v.count, k])
        try images.write("tiles", v.map { Int32($0.tiles) })
        let encoder = JSONEncoder(); encoder.outputFormatting = .sortedKeys
        try images.writeStrings("fields", try v.map { String(decoding: try encoder.encode($0.fields), as: UTF8.self) })
        let group = try file.createGroup("tiles")
        try group.write("image", tiles.map(\.image))
        try group.write("row", tiles.map(\.row))
        try group.write("label", tiles.map(\.label))
        try group.write("predicted", tiles.map(\.predicted))
        try group.write("probability", tiles.flatMap(\.probability), shape: [tiles.count, k])
        try file.close()
    }
}
