import Analysis
import Foundation

/// The dose-response figure as one standalone SVG: a panel per agonist, per group its wells (dots),
/// the fitted curve with its 95 % confidence band, the EC50 (dashed) and the vehicle wells in a
/// column of their own left of the log axis. Plain SVG 1.1, no script, no fonts to fetch.
enum DoseResponseChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
    static let panelWidth = 520.0, panelHeight = 360.0
    static let margin = (left: 110.0, right: 20.0, top: 40.0, bottom: 50.0)

    static func svg(_ analysis: DoseResponseAnalysis) -> String {
        var panels: [(agonist: String, unit: String, members: [Int])] = []
        for (i, g) in analysis.groups.enumerated() {
            if let p = panels.firstIndex(where: { $0.agonist == g.agonist && $0.unit == g.unit }) { panels[p].members.append(i) } else {
                panels.append((g.agonist, g.unit, [i]))
            }
        }
        let legendHeight = 18.0 * Double(panels.map(\.members.count).max() ?? 1) + 10
        let height = margin.top + panelHeight + margin.bottom + legendHeight
        let width = panelWidth * Double(max(panels.count, 1))
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" \
        font-family="Helvetica, Arial, sans-serif" font-size="12">
        <!-- netosis analyze dose-response -->
        <rect width="100%" height="100%" fill="white"/>

        """
        let yLabel = analysis.normalization == nil ? "% NETotic nuclei" : "% NETotic (normalised 0–100)"
        for (p, panel) in panels.enumerated() {
            out += self.panel(analysis, members: panel.members, title: "\(panel.agonist) (\(panel.unit.isEmpty ? "no unit" : panel.unit))",
                              unit: panel.unit, x0: Double(p) * panelWidth, yLabel: yLabel)
        }
        return out + "</svg>\n"
    }

    static func panel(_ a: DoseResponseAnalysis, members: [Int], title: String, unit: String, x0: Double, yLabel: String) -> String {
        let groups = members.map { a.groups[$0] }
        let xs = groups.flatMap { $0.data?.logConcentrations ?? [] }
        let ys = groups.flatMap { ($0.data?.responses ?? []) + ($0.data?.vehicleResponses ?? []) }
        let lowX = floor((xs.min() ?? 0) - 0.5), highX = ceil((xs.max() ?? 1) + 0.5)
        let lowY = min(0, (ys.min() ?? 0) - 5), highY = max(100, (ys.max() ?? 100) + 5)
        let left = x0 + margin.left, right = x0 + panelWidth - margin.right
        let top = margin.top, bottom = margin.top + panelHeight
        func px(_ x: Double) -> Double { left + (x - lowX) / (highX - lowX) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - lowY) / (highY - lowY) * (bottom - top) }
        let vehicleX = x0 + 70.0
        var s = "<g>\n<text x=\"\(f(x0 + panelWidth / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
        // Axes, decade ticks, the vehicle column.
        s += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(bottom))\" stroke=\"black\"/>\n"
        for d in stride(from: lowX, through: highX, by: 1) {
            s += "<line x1=\"\(f(px(d)))\" y1=\"\(f(bottom))\" x2=\"\(f(px(d)))\" y2=\"\(f(bottom + 5))\" stroke=\"black\"/>"
            s += "<text x=\"\(f(px(d)))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(escape(decade(d)))</text>\n"
        }
        let step = (highY - lowY) > 150 ? 50.0 : 20.0
        for t in stride(from: (lowY / step).rounded(.up) * step, through: highY, by: step) {
            s += "<line x1=\"\(f(left - 5))\" y1=\"\(f(py(t)))\" x2=\"\(f(left))\" y2=\"\(f(py(t)))\" stroke=\"black\"/>"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(f(t))</text>\n"
        }
        s += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 38))\" text-anchor=\"middle\">concentration (\(escape(unit)), log scale)</text>\n"
        s += "<text x=\"\(f(vehicleX))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">vehicle</text>\n"
        s += "<text transform=\"translate(\(f(x0 + 16)) \(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (j, g) in groups.enumerated() {
            let colour = palette[members[j] % palette.count]
            guard let data = g.data else { continue }
            if let fit = g.fit, case .unambiguous = fit.verdict {
                let samples = (0...120).map { lowX + (highX - lowX) * Double($0) / 120 }
                let bands = samples.compactMap { x in fit.confidenceBand(at: x).map { (x, $0) } }
                if bands.count == samples.count {
                    let upper = bands.map { "\(f(px($0.0))),\(f(py(clamp($0.1.upper, lowY, highY))))" }
                    let lower = bands.reversed().map { "\(f(px($0.0))),\(f(py(clamp($0.1.lower, lowY, highY))))" }
                    s += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(colour)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
                }
                let line = samples.map { "\(f(px($0))),\(f(py(clamp(fit.value(at: $0), lowY, highY))))" }
                s += "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
                if fit.logEC50 >= lowX && fit.logEC50 <= highX {
                    s += "<line x1=\"\(f(px(fit.logEC50)))\" y1=\"\(f(top))\" x2=\"\(f(px(fit.logEC50)))\" y2=\"\(f(bottom))\" stroke=\"\(colour)\" stroke-dasharray=\"4 3\"/>\n"
                }
            } else if let fit = g.fit, case .ambiguous = fit.verdict {
                let samples = (0...120).map { lowX + (highX - lowX) * Double($0) / 120 }
                let line = samples.map { "\(f(px($0))),\(f(py(clamp(fit.value(at: $0), lowY, highY))))" }
                s += "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" stroke-dasharray=\"2 2\"/>\n"
            }
            for (x, y) in zip(data.logConcentrations, data.responses) {
                s += "<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(y)))\" r=\"3\" fill=\"\(colour)\" fill-opacity=\"0.7\"/>"
            }
            for (k, y) in data.vehicleResponses.enumerated() {
                let jitter = (Double(k % 5) - 2) * 3 + (Double(j) - Double(groups.count - 1) / 2) * 10
                s += "<circle cx=\"\(f(vehicleX + jitter))\" cy=\"\(f(py(y)))\" r=\"3\" fill=\"none\" stroke=\"\(colour)\"/>"
            }
            let ec50: String
            if let e = g.fit?.reportableEC50 {
                ec50 = "EC50 \(sig(e.ec50)) \(g.unit) (95% CI \(sig(e.interval.lower))–\(sig(e.interval.upper)))"
            } else {
                ec50 = g.problem ?? "no EC50"
            }
            let ly = bottom + margin.bottom + 14 + 18 * Double(j)
            s += "\n<rect x=\"\(f(x0 + 20))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>"
            s += "<text x=\"\(f(x0 + 36))\" y=\"\(f(ly))\">\(escape(g.label)): \(escape(ec50))</text>\n"
        }
        return s + "</g>\n"
    }

    static func clamp(_ v: Double, _ low: Double, _ high: Double) -> Double { min(max(v, low), high) }
    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func sig(_ v: Double) -> String { String(format: "%.3g", v) }
    static func decade(_ d: Double) -> String {
        let v = pow(10, d)
        return v >= 1 && v < 1e5 ? String(format: "%.0f", v) : v >= 1e-4 && v < 1 ? String(format: "%g", v) : "1e\(Int(d))"
    }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
