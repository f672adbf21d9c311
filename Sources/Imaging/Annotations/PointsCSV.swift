import Foundation

/// Reads a simple CSV of annotation points for one image: columns `x,y,type` (x = column, y = row,
/// pixels, origin top-left). A header row naming the columns (any order, extra columns ignored) is
/// optional; without one, the first three columns are x, y, type. CRLF, blank lines and `#` comments
/// are tolerated. An optional `image` column names the image (first non-empty value is used).
public enum PointsCSV {
    public static func read(_ path: String) throws -> AnnotationSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnnotationError(path: path, problem: FileManager.default.fileExists(atPath: path)
                                  ? "cannot be read (permission denied or a directory)" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AnnotationError(path: path, problem: "is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> AnnotationSet {
        var xi = 0, yi = 1, ti = 2
        var imageIndex: Int?
        var imageName: String?
        var markers: [Marker] = []
        var sawHeaderOrData = false
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (n, rawLine) in lines.enumerated() {
            let line = rawLine.trimmingCharacters(in: CharacterSet(charactersIn: "\r\u{FEFF}")).trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if !sawHeaderOrData {
                sawHeaderOrData = true
                if Double(fields[0]) == nil {
                    let names = fields.map { $0.lowercased() }
                    guard let x = names.firstIndex(of: "x"), let y = names.firstIndex(of: "y"),
                          let t = names.firstIndex(of: "type") else {
                        throw AnnotationError(path: path, problem: "line \(n + 1): header must name columns x, y and type (got \(fields.joined(separator: ",")))")
                    }
                    xi = x; yi = y; ti = t
                    imageIndex = names.firstIndex(of: "image")
                    continue
                }
            }
            let need = max(xi, yi, ti)
            guard fields.count > need else {
                throw AnnotationError(path: path, problem: "line \(n + 1): expected at least \(need + 1) fields, found \(fields.count)")
            }
            guard let x = Double(fields[xi]), x.isFinite, let y = Double(fields[yi]), y.isFinite else {
                throw AnnotationError(path: path, problem: "line \(n + 1): x '\(fields[xi])' or y '\(fields[yi])' is not a number")
            }
            guard let t = Int(fields[ti]) else {
                throw AnnotationError(path: path, problem: "line \(n + 1): type '\(fields[ti])' is not an integer")
            }
            if let ii = imageIndex, ii < fields.count, imageName == nil, !fields[ii].isEmpty { imageName = fields[ii] }
            markers.append(Marker(x: x, y: y, type: t))
        }
        return AnnotationSet(imageName: imageName, markers: markers, sourcePath: path)
    }
}
