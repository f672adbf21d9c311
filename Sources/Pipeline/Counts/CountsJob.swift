import Analysis
import Foundation
import Imaging
import Storage

/// Settings of one `netosis counts` run.
public struct CountsOptions: Sendable {
    public var results: [String]
    /// Cell Counter XML / points CSV files, one per image (named as `prepare` pairs them).
    public var annotations: String
    public var json: String?
    public var classMap: ClassMap
    public var wells: WellConfig
    public var overwrite: Bool

    public init(results: [String], annotations: String, json: String? = nil, classMap: ClassMap = .standard,
                wells: WellConfig = .standard, overwrite: Bool = false) {
        self.results = results; self.annotations = annotations; self.json = json; self.classMap = classMap
        self.wells = wells; self.overwrite = overwrite
    }
}

/// `netosis counts`: per-image predicted counts (results.h5) against manual Cell Counter counts —
/// Pearson r with its 95 % CI (Fisher z) and p-value, mean absolute error, Bland–Altman bias and
/// limits per class: the paper's Fig. 1C comparison.
public enum CountsJob {
    @discardableResult
    public static func run(_ options: CountsOptions, log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
    throws -> CountReport {
        let set = try ResultsSet.read(options.results)
        let output = try options.json.map { path in
            try OutputFile.check(path, kind: "counts report (\(CountReport.format) JSON)", inputs: options.results,
                                 overwrite: options.overwrite) { isReport($0) }
        }
        for line in set.duplicates { warn(line) }
        // Manual counts: the markers of every annotation file, by the image (or well) it is for.
        let pairing = try annotations(of: set, in: options.annotations, from: options.results.joined(separator: ", "),
                                      assemblingWells: options.wells)
        for problem in pairing.problems { warn(problem) }
        let classes = ScreenClasses.names
        var manual: [String: [Int]] = [:]
        for pair in pairing.pairs { manual[pair.stem] = manualCounts(pair, classMap: options.classMap) }
        var predicted: [String: [Int]] = [:]
        var failed: [String] = []
        for row in set.rows {
            let image = row.result.image
            if image.isOK { predicted[image.name] = image.counts } else { failed.append(image.name) }
        }
        if !failed.isEmpty {
            warn("\(failed.count) image(s) failed in screening and are left out (e.g. \(failed.prefix(3).joined(separator: ", ")))")
        }
        let report = try CountComparison.compare(classes: classes, predicted: predicted, manual: manual)
        if !report.imagesWithoutManual.isEmpty {
            log("note: \(report.imagesWithoutManual.count) screened image(s) have no annotation file (e.g. \(report.imagesWithoutManual.prefix(3).joined(separator: ", ")))")
        }
        for line in table(report) { log(line) }
        if let output {
            let data = try report.jsonData()
            try output.write { try AtomicFile.writeBytes(data, to: $0) }
            log("counts: report → \(output.path)")
        }
        return report
    }

    /// The annotation files in `folder` paired with the images of the results (by image or well name).
    static func annotations(of set: ResultsSet, in folder: String, from results: String,
                            assemblingWells wells: WellConfig? = nil) throws -> AnnotationPairing {
        let images = set.rows.flatMap { $0.result.image.path.split(separator: ";").map(String.init) }
        return try AnnotationPairing.scan(images: images, from: results, annotations: folder, assemblingWells: wells)
    }

    /// An annotation file's markers counted per class (`ScreenClasses` order); unmapped types are not counted.
    static func manualCounts(_ pair: AnnotationPairing.Pair, classMap: ClassMap) -> [Int] {
        var counts = [Int](repeating: 0, count: ScreenClasses.names.count)
        for marker in pair.annotations.markers {
            if let c = classMap.nucleusClass(forType: marker.type) { counts[c.rawValue] += 1 }
        }
        return counts
    }

    /// The closing table: one line per class.
    static func table(_ report: CountReport) -> [String] {
        var lines = ["counts: \(report.images.count) image(s) with predicted and manual counts"]
        lines.append("class          n   r       95% CI            p          MAE     MAE%   bias    limits of agreement")
        for c in report.classes {
            func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "–" }
            let ci = c.rLower95.map { String(format: "%.3f–%.3f", $0, c.rUpper95!) } ?? (c.rUndefinedReason ?? "–")
            lines.append(c.className.padding(toLength: 13, withPad: " ", startingAt: 0)
                         + String(format: "%3d ", c.n) + f(c.pearsonR, "%6.3f") + "  " + ci.padding(toLength: 16, withPad: " ", startingAt: 0)
                         + "  " + f(c.pValue, "%9.2e") + String(format: "  %6.2f ", c.meanAbsoluteError)
                         + f(c.meanAbsoluteErrorPercent, "%6.1f") + String(format: "  %+6.2f  ", c.bias)
                         + (c.lowerLimit.map { String(format: "%+.2f … %+.2f", $0, c.upperLimit!) } ?? "–"))
        }
        return lines
    }

    static func isReport(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["format"] as? String == CountReport.format
    }
}
