import Foundation

/// A self-contained HTML page built from escaped text, tables and inline SVG: no script, no
/// external stylesheet, font or image, so it opens from a shared file system or an e-mail.
struct HTMLPage {
    private(set) var body = ""
    private(set) var contents: [(id: String, title: String)] = []

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    mutating func section(_ id: String, _ title: String) {
        if !contents.isEmpty { body += "</section>\n" }
        contents.append((id, title))
        body += "<section id=\"\(id)\">\n<h2>\(Self.escape(title))</h2>\n"
    }

    mutating func paragraph(_ text: String, kind: String? = nil) {
        body += "<p\(kind.map { " class=\"\($0)\"" } ?? "")>\(Self.escape(text))</p>\n"
    }

    mutating func facts(_ rows: [(String, String)]) {
        body += "<dl>" + rows.map { "<dt>\(Self.escape($0.0))</dt><dd>\(Self.escape($0.1))</dd>" }.joined() + "</dl>\n"
    }

    /// A table; numeric-looking cells are right-aligned.
    mutating func table(_ header: [String], _ rows: [[String]], caption: String? = nil) {
        body += "<table>" + (caption.map { "<caption>\(Self.escape($0))</caption>" } ?? "")
        body += "<thead><tr>" + header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows {
            body += "<tr>" + row.map { cell in
                let numeric = Double(cell.replacingOccurrences(of: "%", with: "")) != nil
                return "<td\(numeric ? " class=\"n\"" : "")>\(Self.escape(cell))</td>"
            }.joined() + "</tr>\n"
        }
        body += "</tbody></table>\n"
    }

    /// Inline SVG written by netosis (trusted; its own text is escaped where it is made).
    mutating func figure(_ svg: String, caption: String) {
        let inline = svg.split(separator: "\n").filter { !$0.hasPrefix("<?xml") }.joined(separator: "\n")
        body += "<figure>\(inline)<figcaption>\(Self.escape(caption))</figcaption></figure>\n"
    }

    func html(title: String, subtitle: String) -> String {
        let nav = contents.map { "<a href=\"#\($0.id)\">\(Self.escape($0.title))</a>" }.joined(separator: " · ")
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="generator" content="netosis report">
        <title>\(Self.escape(title))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1180px; padding: 0 24px 48px; color: #222; }
        header { border-bottom: 3px solid #1f77b4; margin-bottom: 8px; }
        h1 { margin: 18px 0 4px; font-size: 26px; } h2 { margin-top: 36px; border-bottom: 1px solid #ccc; font-size: 20px; }
        nav { font-size: 14px; margin: 8px 0 16px; } nav a { color: #1f77b4; text-decoration: none; }
        .sub { color: #555; margin: 0 0 12px; } .warn { color: #a33; } .ok { color: #286; }
        table { border-collapse: collapse; margin: 10px 0 18px; font-size: 13px; }
        caption { text-align: left; font-weight: bold; padding-bottom: 4px; }
        th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
        th { background: #f3f6fa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
        dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; font-size: 14px; }
        dt { font-weight: bold; } dd { margin: 0; word-break: break-all; }
        figure { margin: 12px 0 24px; overflow-x: auto; } figcaption { font-size: 13px; color: #555; }
        </style>
        </head>
        <body>
        <header><h1>\(Self.escape(title))</h1><p class="sub">\(Self.escape(subtitle))</p></header>
        <nav>\(nav)</nav>
        \(body)\(contents.isEmpty ? "" : "</section>\n")</body>
        </html>

        """
    }
}
