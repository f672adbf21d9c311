import Foundation
import Imaging

/// Where each whole image's class and fields (line, treatment, experiment, …) come from: its file
/// name split at `_` into `--fields`, class patterns matched against the name, or a CSV.
public struct TileLabeling: Sendable {
    /// Names of the `_`-separated parts of a file stem (`line,treatment,time,experiment,index`).
    public var fieldNames: [String] = []
    /// The field holding the class (`--label-field treatment`).
    public var labelField: String?
    /// `CLASS=REGEX` rules tried in order on the file name (`--label 'death=_CPT_'`).
    public var patterns: [(name: String, regex: String)] = []
    /// A CSV with columns `file` and `label`, any others becoming fields (`--labels labels.csv`).
    public var csv: String?
    /// Class names in label order; nil: sorted distinct labels.
    public var classes: [String]?

    public init() {}

    /// The rules as settings for the file's `config` attribute.
    var description: [String: String] {
        var d: [String: String] = [:]
        if !fieldNames.isEmpty { d["fields"] = fieldNames.joined(separator: ",") }
        if let labelField { d["label_field"] = labelField }
        if !patterns.isEmpty { d["label_patterns"] = patterns.map { "\($0.name)=\($0.regex)" }.joined(separator: " ") }
        if let csv { d["labels_csv"] = csv }
        return d
    }

    /// Checks the rules, naming the flag at fault.
    public var problem: String? {
        let sources = [labelField != nil, !patterns.isEmpty, csv != nil].filter { $0 }.count
        if sources == 0 { return "no labels: give --label-field (with --fields), --label CLASS=REGEX or --labels CSV" }
        if sources > 1 { return "--label-field, --label and --labels are alternatives; give one" }
        if let labelField, !fieldNames.contains(labelField) {
            return "--label-field '\(labelField)' is not one of --fields (\(fieldNames.joined(separator: ",")))"
        }
        for p in patterns where (try? NSRegularExpression(pattern: p.regex)) == nil {
            return "--label \(p.name)=\(p.regex): not a regular expression"
        }
        if Set(fieldNames).count != fieldNames.count { return "--fields names a field twice" }
        if let classes, Set(classes).count != classes.count || classes.isEmpty { return "--classes must name distinct classes" }
        return nil
    }

    /// The CSV's rows by file name and by stem (loaded once).
    func table() throws -> [String: [String: String]] {
        guard let csv else { return [:] }
        guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
            throw ImageError(path: csv, problem: FileManager.default.fileExists(atPath: csv) ? "cannot be read as UTF-8 text" : "no such file")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false)
            .map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else {
            throw ImageError(path: csv, problem: "is empty; expected a header with columns file,label")
        }
        guard let fileColumn = header.firstIndex(where: { $0 == "file" || $0 == "image" }),
              let labelColumn = header.firstIndex(of: "label") else {
            throw ImageError(path: csv, problem: "header '\(lines[0])' lacks a file (or image) and a label column")
        }
        var rows: [String: [String: String]] = [:]
        for (n, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else {
                throw ImageError(path: csv, problem: "line \(n + 2) has \(cells.count) columns, the header \(header.count)")
            }
            var fields: [String: String] = [:]
            for (i, name) in header.enumerated() where i != fileColumn { fields[name] = cells[i] }
            fields["label"] = cells[labelColumn]
            let file = (cells[fileColumn] as NSString).lastPathComponent
            rows[file] = fields
            rows[(file as NSString).deletingPathExtension] = fields
        }
        return rows
    }

    /// The fields of the file `name` (`cobble_CPT_1h_e2_003.png`) and its class name, or why not.
    func read(name: String, table: [String: [String: String]]) -> Result<(fields: [String: String], label: String), TilesError> {
        let stem = (name as NSString).deletingPathExtension
        var fields: [String: String] = [:]
        if !fieldNames.isEmpty {
            let parts = stem.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == fieldNames.count else {
                return .failure(TilesError("\(name): the name has \(parts.count) '_'-separated part(s), --fields names \(fieldNames.count) (\(fieldNames.joined(separator: ",")))"))
            }
            for (k, v) in zip(fieldNames, parts) { fields[k] = v }
        }
        if csv != nil {
            guard let row = table[name] ?? table[stem] else { return .failure(TilesError("\(name): not listed in \(csv!)")) }
            for (k, v) in row where k != "label" { fields[k] = v }
            return .success((fields, row["label"]!))
        }
        if let labelField { return .success((fields, fields[labelField]!)) }
        for p in patterns {
            let regex = try! NSRegularExpression(pattern: p.regex)
            if regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil { return .success((fields, p.name)) }
        }
        return .failure(TilesError("\(name): matches none of the --label patterns (\(patterns.map(\.name).joined(separator: ", ")))"))
    }
}

/// A tiles error: one line naming the file or flag at fault.
public struct TilesError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `FIELD=V1,V2`: images whose field is one of the values (`--only line=cobble`, `--test experiment=e3`).
public struct FieldSelection: Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var values: Set<String>

    public init?(_ text: String) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        field = parts[0]; values = Set(parts[1].split(separator: ",").map(String.init))
    }

    public func matches(_ fields: [String: String]) -> Bool { fields[field].map(values.contains) ?? false }
    public var description: String { "\(field)=\(values.sorted().joined(separator: ","))" }
}
