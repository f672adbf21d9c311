import Analysis
import Foundation

/// The report's "Methods compared" section: results of several counting methods (`screen --method
/// ol | rule | pl`) on the same images, side by side — their counts, their agreement with the manual
/// annotations when given (as `netosis counts`), and how their per-image counts agree with each other.
struct MethodComparison {
    /// Each method with its results files read as one set, in the order first named.
    var groups: [(method: String, paths: [String], set: ResultsSet)]

    /// nil when every file comes from one method.
    static func of(_ paths: [String], files: [ResultsFile.Contents]) throws -> MethodComparison? {
        var order: [String] = [], byMethod: [String: [String]] = [:]
        for (path, file) in zip(paths, files) {
            let method = file.identity.method
            if byMethod[method] == nil { order.append(method) }
            byMethod[method, default: []].append(path)
        }
        guard order.count > 1 else { return nil }
        return MethodComparison(groups: try order.map { ($0, byMethod[$0]!, try ResultsSet.read(byMethod[$0]!)) })
    }

    static let names = ["ol": "object level (network per nucleus)", "rule": "ImageJ rule (solidity)", "pl": "pixel level (two-stage counter)"]

    func write(_ page: inout HTMLPage, annotations: String?) throws {
        page.section("methods", "Methods compared")
        page.paragraph("\(groups.count) counting methods on these images: "
                       + groups.map { "\($0.method) — \(Self.names[$0.method] ?? $0.method) (\($0.paths.joined(separator: ", ")))" }.joined(separator: "; ")
                       + ". The sections above use the first, \(groups[0].method); docs/methods.md describes each.")
        page.table(["method", "images ok", "non-NETotic", "NETotic", "other", "% NETotic"], groups.map { g in
            let ok = g.set.rows.map(\.result.image).filter(\.isOK)
            let c = (0..<3).map { k in ok.map { $0.counts[k] }.reduce(0, +) }
            return [g.method, "\(ok.count)", "\(c[1])", "\(c[2])", g.method == "pl" ? "— (not counted)" : "\(c[0])",
                    c[1] + c[2] > 0 ? String(format: "%.1f", 100 * Double(c[2]) / Double(c[1] + c[2])) : "—"]
        }, caption: "Counts summed over the images each method screened ok")
        if let annotations {
            var rows: [[String]] = []
            for g in groups {
                let qc = try AnnotationQC.measure(g.set, annotations: annotations, from: g.paths.joined(separator: ", "))
                for c in qc.counts?.classes ?? [] where c.className != "other" {
                    rows.append([g.method, c.className, "\(c.n)", c.pearsonR.map { String(format: "%.3f", $0) } ?? (c.rUndefinedReason ?? "—"),
                                 c.rLower95.map { String(format: "%.3f–%.3f", $0, c.rUpper95!) } ?? "—",
                                 String(format: "%.2f", c.meanAbsoluteError),
                                 c.meanAbsoluteErrorPercent.map { String(format: "%.1f", $0) } ?? "—", String(format: "%+.2f", c.bias)])
                }
            }
            page.table(["method", "class", "images", "Pearson r", "95 % CI", "MAE", "MAE %", "bias"], rows,
                       caption: "Per-image counts against the manual annotations (the paper: OL r ≥ 0.94 for both; ImageJ rule 0.42 non-NETotic, 0.74 NETotic)")
        } else {
            page.paragraph("Pass --annotations to compare each method with the manual counts.", kind: "warn")
        }
        var pairs: [[String]] = []
        for i in groups.indices { for j in groups.indices where j > i {
            let a = counts(groups[i].set), b = counts(groups[j].set)
            let shared = a.keys.filter { b[$0] != nil }.sorted()
            for (k, name) in [(1, "non-NETotic"), (2, "NETotic")] {
                let r = try? Correlation.pearson(shared.map { Double(a[$0]![k]) }, shared.map { Double(b[$0]![k]) })
                pairs.append(["\(groups[i].method) vs \(groups[j].method)", name, "\(shared.count)",
                              r.map { String(format: "%.3f (%.3f–%.3f)", $0.r, $0.lower95, $0.upper95) } ?? "—",
                              shared.isEmpty ? "—" : String(format: "%+.2f", shared.map { Double(b[$0]![k] - a[$0]![k]) }.reduce(0, +) / Double(shared.count))])
            }
        } }
        page.table(["methods", "class", "images in both", "Pearson r (95 % CI)", "mean difference (second − first)"], pairs,
                   caption: "How the methods' per-image counts agree with each other")
    }

    /// Counts of the ok images by plate and name.
    private func counts(_ set: ResultsSet) -> [String: [Int]] {
        Dictionary(set.rows.map(\.result.image).filter(\.isOK).map { ($0.plate + "/" + $0.name, $0.counts) }, uniquingKeysWith: { a, _ in a })
    }
}
