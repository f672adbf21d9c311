import Cluster
import Foundation
import Imaging
import Storage

/// Settings of one `netosis calibrate-rule` run.
public struct CalibrateRuleOptions: Sendable {
    /// Labelled patches (netosis.patches): their images and annotated object centres.
    public var data: String
    public var output: String
    /// Which images calibrate (default train + val: never the test images).
    public var splits: [PatchSplit]
    /// The rule's segmentation (default: ImageJ's steps, `SolidityRule.imageJSegmentation`).
    public var segmentation: SegmentationConfig
    /// An annotated centre outside every rule object is matched to the nearest object centroid
    /// within this distance (px).
    public var matchRadius: Double
    public var overwrite: Bool

    public init(data: String, output: String, splits: [PatchSplit] = [.train, .val],
                segmentation: SegmentationConfig = SolidityRule.imageJSegmentation, matchRadius: Double = 8,
                overwrite: Bool = false) {
        self.data = data; self.output = output; self.splits = splits; self.segmentation = segmentation
        self.matchRadius = matchRadius; self.overwrite = overwrite
    }
}

/// Calibrates the ImageJ rule's solidity threshold on annotated images: each image of the chosen
/// splits is segmented with the rule's segmentation; every annotated non-NETotic or NETotic object
/// (a patch centre of class 1 or 2) is matched to the rule object under it (or the nearest within
/// `matchRadius`); the threshold with the best balanced accuracy on those objects is kept.
/// Images are shared out over ranks; rank 0 writes the rule file.
public enum CalibrateRuleJob {
    @discardableResult
    public static func run(_ options: CalibrateRuleOptions, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { _ in },
                           progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> SolidityRule {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let images = try annotatedImages(options)
        var output: OutputFile?
        if rank == 0 {
            output = try OutputFile.check(options.output, kind: "rule file (\(SolidityRule.formatName))",
                                          inputs: [options.data], overwrite: options.overwrite, isOwnKind: SolidityRule.isRuleFile)
            guard !images.isEmpty else {
                throw FileFormatError(path: options.data, problem: "no image of the \(options.splits.map(\.description).joined(separator: "/")) split(s) "
                                      + "has an annotated non-NETotic or NETotic object to calibrate on")
            }
        }
        let segmenter = Segmenter(config: options.segmentation)
        var mine = Matches()
        for (i, image) in images.enumerated() where i % size == rank {
            mine.add(try match(image, segmenter: segmenter, radius: options.matchRadius))
            progress(i + 1, images.count)
        }
        let all = try world.map { try $0.allGather(mine) } ?? [mine]
        let total = all.reduce(into: Matches()) { $0.add($1) }
        guard let best = SolidityRule.bestThreshold(total.samples.map { ($0.solidity, $0.netotic) }) else {
            throw FileFormatError(path: options.data, problem: "the rule's segmentation matched \(total.samples.count) annotated object(s), "
                                  + "not both phenotypes: nothing to calibrate a threshold between")
        }
        let matched = [total.samples.filter { !$0.netotic }.count, total.samples.filter(\.netotic).count]
        let rule = SolidityRule(segmentation: options.segmentation, solidityThreshold: best.threshold, netoticBelow: best.netoticBelow,
                                calibration: SolidityRule.Calibration(data: options.data, splits: options.splits.map(\.description), images: images.count,
                                                   matched: matched, unmatched: total.unmatched, balancedAccuracy: best.balancedAccuracy))
        if rank == 0, let output {
            let json = try rule.json()
            try output.write { try json.write(to: URL(fileURLWithPath: $0)) }
            log(String(format: "calibrate-rule: solidity threshold %.4f (NETotic %@), balanced accuracy %.1f%% on %d non-NETotic + %d NETotic "
                       + "annotated objects of %d image(s); %d annotated object(s) not found by the rule's segmentation → %@",
                       best.threshold, best.netoticBelow ? "below" : "above", 100 * best.balancedAccuracy, matched[0], matched[1],
                       images.count, total.unmatched, options.output))
        }
        return rule
    }

    /// One image and its annotated object centres (x, y, class 1 or 2).
    struct AnnotatedImage {
        var path: String
        var centers: [(x: Float, y: Float, netotic: Bool)]
    }

    struct Matches: Codable {
        struct Sample: Codable { var solidity: Double; var netotic: Bool }
        var samples: [Sample] = []
        var unmatched = 0
        mutating func add(_ other: Matches) { samples += other.samples; unmatched += other.unmatched }
    }

    /// The images of the chosen splits with their class-1/2 patch centres, in file order.
    static func annotatedImages(_ options: CalibrateRuleOptions) throws -> [AnnotatedImage] {
        let dataset = try PatchDataset(path: options.data)
        let (file, _) = try FileHeader.open(options.data, expecting: PatchesSchema.format)
        guard file.exists("\(PatchesSchema.images)/path"), file.exists(PatchesSchema.center) else {
            throw FileFormatError(path: options.data, problem: "has no /images/path or /center (written by an old prepare?); run prepare again")
        }
        let paths = try file.dataset("\(PatchesSchema.images)/path").readStrings()
        let centers: [Float] = try file.read(PatchesSchema.center)
        let wanted = Set(options.splits.map(\.rawValue))
        var byImage: [Int: [(x: Float, y: Float, netotic: Bool)]] = [:]
        for row in 0..<dataset.count where wanted.contains(dataset.split[row]) && (dataset.labels[row] == 1 || dataset.labels[row] == 2) {
            let image = Int(dataset.imageIndex[row])
            guard image >= 0 && image < paths.count else { continue }
            byImage[image, default: []].append((centers[2 * row], centers[2 * row + 1], dataset.labels[row] == 2))
        }
        return byImage.keys.sorted().map { AnnotatedImage(path: paths[$0], centers: byImage[$0]!) }
    }

    /// Segments one image with the rule's segmentation and pairs each annotated centre with an object.
    static func match(_ image: AnnotatedImage, segmenter: Segmenter, radius: Double) throws -> Matches {
        let pixels: GrayImage
        do { pixels = try TIFFReader.read(image.path) } catch {
            throw ImageError(path: image.path, problem: "cannot be read to calibrate the rule (\(InputFiles.describe(error, path: image.path)))")
        }
        let segmentation = segmenter.segment(pixels)
        var out = Matches()
        for c in image.centers {
            let (x, y) = (Int(c.x.rounded()), Int(c.y.rounded()))
            var index: Int?
            if x >= 0 && x < segmentation.width && y >= 0 && y < segmentation.height {
                let label = Int(segmentation.labels[y * segmentation.width + x])
                if label > 0 { index = label - 1 }
            }
            if index == nil {
                var bestDistance = radius * radius
                for (i, n) in segmentation.nuclei.enumerated() {
                    let d = (n.centroidX - Double(c.x)) * (n.centroidX - Double(c.x)) + (n.centroidY - Double(c.y)) * (n.centroidY - Double(c.y))
                    if d <= bestDistance { bestDistance = d; index = i }
                }
            }
            if let index { out.samples.append(.init(solidity: segmentation.nuclei[index].solidity, netotic: c.netotic)) }
            else { out.unmatched += 1 }
        }
        return out
    }
}
