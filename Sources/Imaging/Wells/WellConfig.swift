import Foundation
import Storage

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

    /// The file's shape; unknown keys are refused (a misspelt `colums:` must not be ignored) and
    /// sizes are bounded, so a typo cannot ask for an impossible grid.
    private struct File: Decodable {
        struct Pattern: Decodable {
            var name: String?, regex: String
            enum CodingKeys: String, CodingKey, CaseIterable { case name, regex }
            init(from decoder: Decoder) throws {
                try decoder.rejectUnknownKeys(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = try c.decodeIfPresent(String.self, forKey: .name)
                regex = try c.decode(String.self, forKey: .regex)
            }
        }
        struct Fields: Decodable {
            var columns: Int?, rows: Int?, width: Int?, height: Int?
            var order: FieldOrder?
            var firstIndex: Int?
            enum CodingKeys: String, CodingKey, CaseIterable {
                case columns, rows, width, height, order, firstIndex = "first_index"
            }
            init(from decoder: Decoder) throws {
                try decoder.rejectUnknownKeys(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                func count(_ key: CodingKeys, _ range: ClosedRange<Int>) throws -> Int? {
                    guard let value = try c.decodeIfPresent(Int.self, forKey: key) else { return nil }
                    guard range.contains(value) else {
                        throw c.problem(key, "must be in \(range.lowerBound)…\(range.upperBound) (got \(value))")
                    }
                    return value
                }
                columns = try count(.columns, 1...100)
                rows = try count(.rows, 1...100)
                width = try count(.width, 1...100_000)
                height = try count(.height, 1...100_000)
                firstIndex = try count(.firstIndex, 0...1000)
                order = try c.decodeIfPresent(FieldOrder.self, forKey: .order)
            }
        }
        var patterns: [Pattern]?
        var fields: Fields?
        var extensions: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable { case patterns, fields, extensions }
        init(from decoder: Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            patterns = try c.decodeIfPresent([Pattern].self, forKey: .patterns)
            fields = try c.decodeIfPresent(Fields.self, forKey: .fields)
            extensions = try c.decodeIfPresent([String].self, forKey: .extensions)
        }
    }

    /// Reads a YAML file; keys it omits keep the built-in defaults.
    public static func load(_ path: String) throws -> WellConfig {
        let text = try ConfigFile.read(path)
        do {
            return try parse(yaml: text, source: path)
        } catch let error as WellConfigError {
            throw ConfigError(path: path, problem: error.description)
        }
    }

    /// Parses YAML text (see config/wells.yaml); `source` names the file in messages.
    public static func parse(yaml: String, source: String = "wells configuration") throws -> WellConfig {
        if yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .standard }
        let file = try ConfigFile.decode(File.self, yaml: yaml, source: source)
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
            if let v = f.firstIndex { g.firstIndex = v }
            if let v = f.order { g.order = v }
            config.grid = g
        }
        if let e = file.extensions {
            config.extensions = e.map { $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
        }
        return config
    }
}
