import Foundation
import Yams

/// A configuration problem (config/wells.yaml or a pattern given on the command line).
public struct WellConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// File naming and field layout of well images (config/wells.yaml).
/// `standard` is identical to the shipped file, so the library works without it.
public struct WellConfig: Sendable {
    public var naming: WellNaming
    public var grid: FieldGrid
    /// File extensions (lower case, no dot) that count as images when scanning a folder.
    public var extensions: [String]

    public init(naming: WellNaming, grid: FieldGrid, extensions: [String]) {
        self.naming = naming; self.grid = grid; self.extensions = extensions
    }

    /// The built-in defaults.
    public static let standardPatterns: [(name: String, regex: String)] = [
        ("netosis", #"^(?<plate>[A-Za-z0-9-]+)_(?<well>[A-Pa-p][0-9]{1,2})(?:_f(?<field>[0-9]{1,3}))?$"#),
        ("cell-classification-journal", #"^(?<experiment>[A-Za-z0-9-]+)_(?<well>[A-Pa-p][0-9]{1,2})\.(?<site>[0-9]+_[0-9]+)$"#),
    ]

    public static let standard: WellConfig = {
        // The built-in patterns are literals checked by tests; they always compile.
        let patterns = standardPatterns.map { try! WellNamePattern(name: $0.name, pattern: $0.regex) }
        return WellConfig(naming: WellNaming(patterns: patterns), grid: FieldGrid(), extensions: ["tif", "tiff"])
    }()

    private struct File: Decodable {
        struct Pattern: Decodable { var name: String?; var regex: String }
        struct Fields: Decodable {
            var columns: Int?, rows: Int?, width: Int?, height: Int?
            var order: String?
            var first_index: Int?
        }
        var patterns: [Pattern]?
        var fields: Fields?
        var extensions: [String]?
    }

    /// Reads a YAML file; keys it omits keep the built-in defaults.
    public static func load(_ path: String) throws -> WellConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw WellConfigError("\(path): cannot read the well configuration")
        }
        do {
            return try parse(yaml: text)
        } catch let error as WellConfigError {
            throw WellConfigError("\(path): \(error.description)")
        } catch {
            // YAML parser messages span lines (context, caret); keep the error to one line.
            let detail = "\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && $0 != "^" }.joined(separator: " ")
            throw WellConfigError("\(path): not a valid well configuration (\(detail))")
        }
    }

    /// Parses YAML text (see config/wells.yaml).
    public static func parse(yaml: String) throws -> WellConfig {
        let file = try YAMLDecoder().decode(File.self, from: yaml)
        var config = WellConfig.standard
        if let patterns = file.patterns {
            guard !patterns.isEmpty else { throw WellConfigError("'patterns' is empty") }
            config.naming = WellNaming(patterns: try patterns.enumerated().map {
                try WellNamePattern(name: $0.element.name ?? "pattern \($0.offset + 1)", pattern: $0.element.regex)
            })
        }
        if let f = file.fields {
            var g = config.grid
            if let v = f.columns { g.columns = v }
            if let v = f.rows { g.rows = v }
            if let v = f.width { g.fieldWidth = v }
            if let v = f.height { g.fieldHeight = v }
            if let v = f.first_index { g.firstIndex = v }
            if let o = f.order {
                guard let order = FieldOrder(rawValue: o) else {
                    throw WellConfigError("fields.order '\(o)' is not one of \(FieldOrder.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                g.order = order
            }
            guard g.columns > 0, g.rows > 0, g.fieldWidth > 0, g.fieldHeight > 0 else {
                throw WellConfigError("fields: columns, rows, width and height must be positive")
            }
            config.grid = g
        }
        if let e = file.extensions {
            config.extensions = e.map { $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
        }
        return config
    }
}
