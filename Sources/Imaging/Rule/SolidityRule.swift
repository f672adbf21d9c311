import Foundation
import Storage

/// The paper's ImageJ rule baseline: background subtraction, an Isodata threshold, objects under
/// 100 px and objects touching the border removed, then one solidity (area / convex area) threshold
/// splits NETotic from non-NETotic nuclei. The paper prints the threshold as 5.677, which cannot be a
/// solidity (≤ 1), so the threshold is calibrated on annotated training images (`calibrate-rule`)
/// and stored with the segmentation it was calibrated for, in a small JSON file (`netosis.rule`).
/// Every object the rule finds is counted as one of the two phenotypes (the rule has no "other").
public struct SolidityRule: Codable, Equatable, Sendable {
    public static let formatName = "netosis.rule"
    public static let formatVersion = 1

    public var format = SolidityRule.formatName
    public var formatVersion = SolidityRule.formatVersion
    /// The rule's segmentation (ImageJ's steps expressed as a `SegmentationConfig`).
    public var segmentation: SegmentationConfig
    /// Solidity at which the rule switches class.
    public var solidityThreshold: Double
    /// True: solidity below the threshold is NETotic (spread chromatin is irregular); false: above.
    public var netoticBelow: Bool
    /// Where the threshold came from (nil for a hand-written rule).
    public var calibration: Calibration?

    public struct Calibration: Codable, Equatable, Sendable {
        /// The patches file whose annotated objects calibrated it, and the splits used.
        public var data: String
        public var splits: [String]
        public var images: Int
        /// Annotated nuclei matched to a rule object, per class (non-NETotic, NETotic).
        public var matched: [Int]
        /// Annotated nuclei the rule's segmentation missed (no object at or near the marker).
        public var unmatched: Int
        /// Balanced accuracy of the threshold on the matched nuclei.
        public var balancedAccuracy: Double

        public init(data: String, splits: [String], images: Int, matched: [Int], unmatched: Int, balancedAccuracy: Double) {
            self.data = data; self.splits = splits; self.images = images; self.matched = matched
            self.unmatched = unmatched; self.balancedAccuracy = balancedAccuracy
        }
    }

    public init(segmentation: SegmentationConfig = SolidityRule.imageJSegmentation, solidityThreshold: Double,
                netoticBelow: Bool = true, calibration: Calibration? = nil) {
        self.segmentation = segmentation; self.solidityThreshold = solidityThreshold
        self.netoticBelow = netoticBelow; self.calibration = calibration
    }

    /// ImageJ's steps: rolling-ball background subtraction (radius 50 px), no smoothing, the Isodata
    /// ("default") threshold without hysteresis, holes filled, no opening, no splitting of touching
    /// nuclei, objects < 100 px and objects touching the border dropped.
    public static let imageJSegmentation: SegmentationConfig = {
        var c = SegmentationConfig()
        c.background = .rollingBall; c.backgroundRadius = 50; c.smoothingSigma = 0
        c.threshold = .isodata; c.thresholdScale = 1; c.hysteresisLow = 1
        c.openingRadius = 0; c.closingRadius = 0; c.fillHoles = true
        c.minArea = 100; c.minObjectArea = 100; c.maxObjectArea = 0; c.clearBorder = true
        c.watershed = false; c.contrastRatio = 0
        return c
    }()

    /// 1 (non-NETotic) or 2 (NETotic), the patch classes' indices.
    public func classify(_ nucleus: Nucleus) -> Int {
        (nucleus.solidity < solidityThreshold) == netoticBelow ? 2 : 1
    }

    // MARK: calibration

    /// The threshold (and direction) with the best balanced accuracy on (solidity, isNETotic) pairs:
    /// every midpoint between consecutive distinct solidities is tried, in both directions. Ties go to
    /// the first (lowest) threshold of "NETotic below". Nil without both classes.
    public static func bestThreshold(_ samples: [(solidity: Double, netotic: Bool)])
        -> (threshold: Double, netoticBelow: Bool, balancedAccuracy: Double)? {
        let positives = samples.filter(\.netotic).count, negatives = samples.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let sorted = samples.sorted { $0.solidity < $1.solidity }
        var best: (threshold: Double, netoticBelow: Bool, balancedAccuracy: Double)?
        var netoticBelowCut = 0, otherBelowCut = 0   // counts with solidity < threshold
        var i = 0
        while i <= sorted.count {
            // Threshold between sorted[i−1] and sorted[i] (or outside the range at the ends).
            let low = i == 0 ? sorted[0].solidity - 1e-3 : sorted[i - 1].solidity
            let high = i == sorted.count ? sorted[sorted.count - 1].solidity + 1e-3 : sorted[i].solidity
            if i == 0 || i == sorted.count || low < high {
                let threshold = (low + high) / 2
                let below = 0.5 * (Double(netoticBelowCut) / Double(positives) + Double(negatives - otherBelowCut) / Double(negatives))
                for (direction, score) in [(true, below), (false, 1 - below)] where best == nil || score > best!.balancedAccuracy + 1e-12 {
                    best = (threshold, direction, score)
                }
            }
            guard i < sorted.count else { break }
            if sorted[i].netotic { netoticBelowCut += 1 } else { otherBelowCut += 1 }
            i += 1
        }
        return best
    }

    // MARK: file

    /// Reads a rule file, saying what is wrong with it in one line.
    public static func read(_ path: String) throws -> SolidityRule {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FileFormatError(path: path, problem: "cannot be read (\(FileProblem.reason(error)))")
        }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            let hdf5 = data.prefix(8) == Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A])
            throw FileFormatError(path: path, problem: (hdf5 ? "is an HDF5 file (a checkpoint? screen it with --method ol), " : "is ")
                                  + "not a \(formatName) file (the JSON `netosis calibrate-rule` writes)")
        }
        let rule: SolidityRule
        do { rule = try JSONDecoder().decode(SolidityRule.self, from: data) } catch {
            throw FileFormatError(path: path, problem: "is not a valid \(formatName) file: \(ConfigFile.describe(error, yaml: String(decoding: data, as: UTF8.self)))")
        }
        guard rule.format == formatName else { throw FileFormatError(path: path, problem: "format is '\(rule.format)', expected \(formatName)") }
        guard rule.formatVersion <= formatVersion else {
            throw FileFormatError(path: path, problem: "format version \(rule.formatVersion) is newer than this netosis reads (\(formatVersion))")
        }
        guard rule.solidityThreshold.isFinite else { throw FileFormatError(path: path, problem: "solidityThreshold is not finite") }
        if let problem = rule.segmentation.validationProblem() {
            throw FileFormatError(path: path, problem: "segmentation: \(problem)")
        }
        return rule
    }

    /// JSON with sorted keys, as written (and hashed into a results file's identity).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    /// Whether the file at `path` is a rule file (what an output may replace).
    public static func isRuleFile(_ path: String) -> Bool {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["format"] as? String == formatName
    }
}
