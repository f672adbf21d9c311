import Analysis
import Foundation

/// One plate as a grid of wells (8 × 12, or 16 × 24 when a well lies beyond H or 12), each
/// coloured by a value (white → blue) with the value written in it; wells without a value grey.
enum PlateHeatmap {
    static func svg(plate: String, values: [String: Double], label: String, maximum: Double? = nil, format: String = "%.0f") -> String {
        drawn(plate: plate, values: values, label: label, maximum: maximum, format: format).svg
    }

    /// Several plates one under another in one SVG file (nested <svg> elements); `comment` goes first.
    static func stacked(_ plates: [(plate: String, values: [String: Double])], label: String, maximum: Double? = nil,
                        format: String = "%.0f", comment: String = "") -> String {
        var y = 0, width = 0, body = ""
        for p in plates {
            let d = drawn(plate: p.plate, values: p.values, label: label, maximum: maximum, format: format)
            body += d.svg.replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ", with: "<svg y=\"\(y)\" ")
            y += d.height + 10; width = max(width, d.width)
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(max(y, 1))\">\n\(comment)\n" + body + "</svg>\n"
    }

    private static func drawn(plate: String, values: [String: Double], label: String, maximum: Double?, format: String)
        -> (svg: String, width: Int, height: Int) {
        let wells = values.keys.compactMap { PlateWell.normalise($0) }
        // 96-well, 384-well, or as large as the wells need (PlateWell allows rows A–P, columns 1–48).
        let maxRow = wells.map(\.row).max() ?? 0, maxColumn = wells.map(\.column).max() ?? 1
        let big = maxRow >= 8 || maxColumn > 12
        let rows = big ? 16 : 8, columns = big ? max(24, maxColumn) : 12
        let cell = big ? 26.0 : 42.0, left = 30.0, top = 40.0
        let high = maximum ?? max(values.values.filter(\.isFinite).max() ?? 1, 1e-9)
        let width = Int(left + cell * Double(columns) + 10), height = Int(top + cell * Double(rows) + 10)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" "
            + "height=\"\(height)\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"\(big ? 8 : 11)\">\n"
        s += "<text x=\"\(left)\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(HTMLPage.escape(plate)): \(HTMLPage.escape(label))</text>\n"
        for c in 1...columns { s += "<text x=\"\(left + cell * (Double(c) - 0.5))\" y=\"\(top - 6)\" text-anchor=\"middle\">\(c)</text>" }
        let letters = Array("ABCDEFGHIJKLMNOP")
        for r in 0..<rows { s += "<text x=\"\(left - 8)\" y=\"\(top + cell * (Double(r) + 0.6))\" text-anchor=\"end\">\(letters[r])</text>" }
        s += "\n"
        let byPosition = Dictionary(values.compactMap { key, v in PlateWell.normalise(key).map { ("\($0.row),\($0.column)", v) } },
                                    uniquingKeysWith: { a, _ in a })
        for r in 0..<rows {
            for c in 1...columns {
                let x = left + cell * Double(c - 1), y = top + cell * Double(r)
                guard let v = byPosition["\(r),\(c)"], v.isFinite else {
                    s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 2)\" height=\"\(cell - 2)\" fill=\"#eee\"/>"
                    continue
                }
                let t = min(max(v / high, 0), 1)
                let colour = String(format: "#%02x%02x%02x", Int(255 - 224 * t), Int(255 - 136 * t), Int(255 - 75 * t))
                s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 2)\" height=\"\(cell - 2)\" fill=\"\(colour)\"><title>"
                    + "\(letters[r])\(String(format: "%02d", c)): \(String(format: format, v))</title></rect>"
                s += "<text x=\"\(x + (cell - 2) / 2)\" y=\"\(y + cell / 2 + 3)\" text-anchor=\"middle\" fill=\"\(t > 0.6 ? "white" : "black")\">"
                    + "\(String(format: format, v))</text>"
            }
            s += "\n"
        }
        return (s + "</svg>\n", width, height)
    }
}
