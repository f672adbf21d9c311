import Foundation
import Imaging
import Neural
import Storage

/// `netosis report` on whole-image classification results (`evaluate --predictions`, task
/// image-classification): the run, confusion matrices of tiles and of images (mean tile
/// probability and vote) with precision and recall, accuracy per cell line / experiment, the
/// training history beside the checkpoint, and every image's call.
enum ImageClassificationReport {
    struct Predictions {
        var path: String
        var header: FileHeader
        var checkpoint: String
        var classes: [String]
        var names: [String]
        var imageLabels: [Int8], imagePredicted: [Int8], imageVote: [Int8]
        var probability: [Float]
        var fields: [[String: String]]
        var tileLabels: [Int8], tilePredicted: [Int8]
    }

    static func isImageClassification(_ path: String) -> Bool {
        guard let (file, _) = try? FileHeader.open(path, expecting: ResultsFile.format), file.hasAttribute("task") else { return false }
        return (try? file.stringAttribute("task")) == "image-classification"
    }

    static func read(_ path: String) throws -> Predictions {
        let (file, header) = try FileHeader.open(path, expecting: ResultsFile.format)
        func bad(_ problem: String) -> FileFormatError { FileFormatError(path: path, problem: problem) }
        guard let classes = try? JSONDecoder().decode([String].self, from: Data(try file.stringAttribute("classes").utf8)) else {
            throw bad("attribute 'classes' is missing or not a JSON list")
        }
        let names = try file.dataset("images/name").readStrings()
        let p = Predictions(path: path, header: header, checkpoint: try file.stringAttribute("checkpoint"), classes: classes, names: names,
                            imageLabels: try file.read("images/label"), imagePredicted: try file.read("images/predicted"),
                            imageVote: try file.read("images/predicted_vote"), probability: try file.read("images/probability"),
                            fields: try file.dataset("images/fields").readStrings().map(PatchDataset.decodeFields),
                            tileLabels: try file.read("tiles/label"), tilePredicted: try file.read("tiles/predicted"))
        let m = names.count, k = classes.count
        guard [p.imageLabels.count, p.imagePredicted.count, p.imageVote.count, p.fields.count].allSatisfy({ $0 == m }),
              p.probability.count == m * k, p.tileLabels.count == p.tilePredicted.count,
              (p.imageLabels + p.imagePredicted + p.imageVote + p.tileLabels + p.tilePredicted).allSatisfy({ $0 >= -1 && Int($0) < k }) else {
            throw bad("its /images and /tiles columns disagree in length or hold labels outside the \(k) classes")
        }
        return p
    }

    static func write(_ paths: [String], output: OutputFile, log: (String) -> Void) throws -> String {
        var page = HTMLPage()
        let all = try paths.map(read)
        var imageCount = 0
        for (n, p) in all.enumerated() {
            let suffix = all.count > 1 ? " (\(n + 1))" : ""
            let k = p.classes.count
            page.section("run\(n)", "Run" + suffix)
            page.facts([("results file", p.path), ("evaluated", p.header.created), ("by", p.header.toolVersion), ("checkpoint", p.checkpoint),
                        ("images", "\(p.names.count) (\(p.tileLabels.count) tiles)"), ("classes", p.classes.joined(separator: ", "))])
            let labelled = !p.imageLabels.isEmpty && p.imageLabels.allSatisfy { $0 >= 0 }
            let failed = p.imagePredicted.filter { $0 < 0 }.count
            if !labelled {
                // Screened photographs: no truth, so calls per class only.
                page.section("calls\(n)", "Calls" + suffix)
                page.table(["class", "images (mean tile probability)", "images (vote)"], (0..<k).map { c in
                    [p.classes[c], String(p.imagePredicted.filter { $0 == c }.count), String(p.imageVote.filter { $0 == c }.count)]
                } + (failed > 0 ? [["failed", String(failed), String(failed)]] : []))
            }
            if labelled { page.section("confusion\(n)", "Confusion matrices" + suffix) }
            for (title, truth, called) in [("tiles", p.tileLabels, p.tilePredicted), ("images, mean tile probability", p.imageLabels, p.imagePredicted),
                                           ("images, vote of tiles", p.imageLabels, p.imageVote)] where labelled {
                var m = ConfusionMatrix(classes: k)
                for (t, c) in zip(truth, called) { m.add(truth: Int(t), predicted: Int(c)) }
                page.table(["true \\ called"] + p.classes + ["recall"],
                           (0..<k).map { t in [p.classes[t]] + (0..<k).map { String(m.count(truth: t, predicted: $0)) } + [percent(m.recall[t])] },
                           caption: "\(title): accuracy \(percent(m.accuracy)), balanced \(percent(m.balancedAccuracy))")
                page.table(["class", "precision (TP / called)", "recall (TP / true)", "F1", "support"],
                           (0..<k).map { c in [p.classes[c], percent(m.precision[c]), percent(m.recall[c]), percent(m.f1[c]), String(m.support(c))] })
            }
            let fieldNames = Set(p.fields.flatMap(\.keys)).subtracting(["index"]).sorted()
            var byFieldRows: [[String]] = []
            for field in fieldNames where labelled {
                let groups = Dictionary(grouping: p.names.indices) { p.fields[$0][field] ?? "" }
                guard groups.count > 1 else { continue }
                for value in groups.keys.sorted() {
                    let members = groups[value]!
                    let right = members.filter { p.imagePredicted[$0] == p.imageLabels[$0] }.count
                    byFieldRows.append([field, value, String(members.count), percent(Double(right) / Double(members.count))])
                }
            }
            if !byFieldRows.isEmpty {
                page.section("fields\(n)", "Accuracy by field" + suffix)
                page.table(["field", "value", "images", "image accuracy"], byFieldRows)
            }
            let history = URL(fileURLWithPath: p.checkpoint).deletingLastPathComponent().appendingPathComponent("history.csv").path
            if let text = try? String(contentsOfFile: history, encoding: .utf8), let svg = historyChart(text) {
                page.section("history\(n)", "Training history" + suffix)
                page.figure(svg, caption: "Loss (train, validation) and validation accuracy per epoch, from \(history).")
            }
            page.section("images\(n)", "Images" + suffix)
            let shown = min(p.names.count, 500)
            func name(_ c: Int8) -> String { c < 0 ? "—" : p.classes[Int(c)] }
            page.table(["image", "true", "called (mean)", "called (vote)"] + p.classes.map { "P(\($0))" } + fieldNames,
                       (0..<shown).map { i in
                           [p.names[i], name(p.imageLabels[i]), name(p.imagePredicted[i]), name(p.imageVote[i])]
                               + (0..<k).map { p.probability[i * k + $0].isNaN ? "—" : String(format: "%.3f", p.probability[i * k + $0]) } + fieldNames.map { p.fields[i][$0] ?? "" }
                       }, caption: shown < p.names.count ? "first \(shown) of \(p.names.count) images" : nil)
            imageCount += p.names.count
        }
        let title = "Image classification report: \(imageCount) image(s)"
        let html = page.html(title: title, subtitle: "netosis \(ToolVersion.string) · \(FileHeader.now())")
        try output.write { try AtomicFile.writeBytes(Data(html.utf8), to: $0) }
        log("report: \(imageCount) whole image(s) from \(paths.count) image-classification results file(s); sections: run, confusion matrices, "
            + "accuracy by field, training history, images → \(output.path) (\(html.utf8.count / 1024) kB, self-contained)")
        return html
    }

    static func percent(_ x: Double) -> String { x.isNaN ? "—" : String(format: "%.1f%%", 100 * x) }

    /// Train and validation loss (left axis) and validation accuracy (right axis, 0–1) per epoch.
    static func historyChart(_ csv: String) -> String? {
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, let e = header.firstIndex(of: "epoch"), let tl = header.firstIndex(of: "train_loss"),
              let vl = header.firstIndex(of: "val_loss"), let va = header.firstIndex(of: "val_accuracy"), lines.count >= 2 else { return nil }
        let rows = lines.dropFirst().filter { $0.count == header.count }
        let epochs = rows.compactMap { Double($0[e]) }
        let series = [(tl, "#1f77b4", "train loss"), (vl, "#d62728", "validation loss")].map { (column, colour, name) in
            (rows.map { Double($0[column]) ?? .nan }, colour, name)
        }
        let accuracy = rows.map { Double($0[va]) ?? .nan }
        let maxLoss = max(1e-6, series.flatMap(\.0).filter(\.isFinite).max() ?? 1)
        let (w, h, left, right, top, bottom) = (640.0, 300.0, 50.0, 50.0, 20.0, 40.0)
        let lastEpoch = max(epochs.last ?? 1, 1)
        func x(_ epoch: Double) -> Double { left + (w - left - right) * (epoch - 1) / max(1, lastEpoch - 1) }
        func y(_ v: Double, _ top1: Double) -> Double { top + (h - top - bottom) * (1 - v / top1) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-size=\"11\">"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w - left - right)\" height=\"\(h - top - bottom)\" fill=\"none\" stroke=\"#999\"/>"
        func path(_ values: [Double], _ top1: Double, _ colour: String, dash: Bool = false) -> String {
            let points = zip(epochs, values).filter { $0.1.isFinite }.map { String(format: "%.1f,%.1f", x($0.0), y($0.1, top1)) }
            return points.isEmpty ? "" : "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash ? " stroke-dasharray=\"5,3\"" : "") points=\"\(points.joined(separator: " "))\"/>"
        }
        for (values, colour, _) in series { svg += path(values, maxLoss, colour) }
        svg += path(accuracy, 1, "#2ca02c", dash: true)
        for t in 0...4 {
            let v = Double(t) / 4
            svg += String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.2g</text>", left - 4, y(v * maxLoss, maxLoss) + 4, v * maxLoss)
            svg += String(format: "<text x=\"%.0f\" y=\"%.1f\">%.0f%%</text>", w - right + 4, y(v, 1) + 4, 100 * v)
        }
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">epoch (1 … %.0f)</text>", (left + w - right) / 2, h - 10, lastEpoch)
        var legend = 0.0
        for (name, colour) in [("train loss", "#1f77b4"), ("validation loss", "#d62728"), ("validation accuracy (right axis)", "#2ca02c")] {
            svg += "<rect x=\"\(left + 10 + legend)\" y=\"\(top + 6)\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(left + 24 + legend)\" y=\"\(top + 15)\">\(HTMLPage.escape(name))</text>"
            legend += Double(name.count) * 6 + 30
        }
        return svg + "</svg>"
    }
}
