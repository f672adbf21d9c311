import Foundation
import Yams

/// A problem with a configuration file, one line:
/// "config/segmentation.yaml: line 4, column 1: threshold: 'otsuu' is not one of otsu, isodata, triangle".
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// The one way YAML configuration files are read (segmentation, class map, wells, models): every
/// failure becomes a `ConfigError` naming the file and, when the problem has a place, its line,
/// column and key. Swift's `DecodingError` texts never reach the user.
public enum ConfigFile {
    /// The text of the file at `path`.
    public static func read(_ path: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(path: path, problem: FileProblem.reason(error))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: path, problem: "is not UTF-8 text (expected a YAML file)")
        }
        return text
    }

    /// Reads and decodes the YAML file at `path`.
    public static func load<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        try decode(type, yaml: read(path), source: path)
    }

    /// Decodes YAML text; `source` names the file in messages.
    public static func decode<T: Decodable>(_ type: T.Type, yaml: String, source: String) throws -> T {
        do {
            return try YAMLDecoder().decode(type, from: yaml)
        } catch {
            throw ConfigError(path: source, problem: describe(error, yaml: yaml))
        }
    }

    /// The converter: a decoding or YAML syntax error as "line L, column C: key.path: problem".
    public static func describe(_ error: Error, yaml: String) -> String {
        if let error = error as? YamlError { return describe(error) }
        guard let error = error as? DecodingError else { return "\(error)" }
        if case .dataCorrupted(let context) = error, let underlying = context.underlyingError as? YamlError {
            return describe(underlying)
        }
        let root = (try? Yams.compose(yaml: yaml)) ?? nil
        if root == nil || root == Node("") { return "is empty (expected YAML settings: key: value lines)" }
        switch error {
        case .typeMismatch(let type, let context):
            let found = root.flatMap { node(at: context.codingPath, in: $0) }.map(shown) ?? "something else"
            return place(context.codingPath, root) + "expected \(expected(type)), found \(found)"
        case .valueNotFound(let type, let context):
            return place(context.codingPath, root) + "no value (expected \(expected(type)))"
        case .keyNotFound(let key, let context):
            return place(context.codingPath, root) + "missing key '\(key.stringValue)'"
        case .dataCorrupted(let context):
            return place(context.codingPath, root) + context.debugDescription
        @unknown default:
            return "not a valid configuration"
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let while_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return "line \(mark.line), column \(mark.column): not valid YAML: \(problem)\(while_)"
        case let .reader(problem, _, _, _):
            return "not valid YAML text: \(problem)"
        default:
            return "not valid YAML: \(error)"
        }
    }

    /// "line 4, column 1: fields.order: " for a key path, "" when it has no place in the file.
    private static func place(_ path: [CodingKey], _ root: Node?) -> String {
        guard !path.isEmpty else { return "" }
        let keys = path.enumerated().map { $0.element.intValue.map { "[\($0)]" } ?? ($0.offset == 0 ? "" : ".") + $0.element.stringValue }
            .joined()
        guard let mark = root.flatMap({ self.mark(of: path, in: $0) }) else { return "\(keys): " }
        return "line \(mark.line), column \(mark.column): \(keys): "
    }

    /// Where the last key of `path` (or the list item) is written.
    private static func mark(of path: [CodingKey], in root: Node) -> Mark? {
        var node = root, mark = root.mark
        for key in path {
            if let mapping = node.mapping, let pair = mapping.first(where: { $0.key.string == key.stringValue }) {
                (node, mark) = (pair.value, pair.key.mark)
            } else if let sequence = node.sequence, let i = key.intValue, sequence.indices.contains(i) {
                (node, mark) = (sequence[i], sequence[i].mark)
            } else {
                return mark
            }
        }
        return mark
    }

    private static func node(at path: [CodingKey], in root: Node) -> Node? {
        var node = root
        for key in path {
            if let value = node.mapping?[key.stringValue] { node = value }
            else if let i = key.intValue, let sequence = node.sequence, sequence.indices.contains(i) { node = sequence[i] }
            else { return nil }
        }
        return node
    }

    private static func shown(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    private static func expected(_ type: Any.Type) -> String {
        switch "\(type)" {
        case "Int", "Int32", "Int64", "UInt", "UInt32", "UInt64": return "a whole number"
        case "Double", "Float": return "a number"
        case "Bool": return "true or false"
        case "String": return "text"
        case "Mapping": return "a mapping (key: value lines)"
        case "Sequence": return "a list"
        case "Scalar": return "a single value"
        default: return "\(type)"
        }
    }
}

/// A fixed choice in a configuration file: an unknown value is refused listing the valid ones.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Decodable where RawValue == String {}

extension ConfigChoice {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                "'\(text)' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        self = value
    }
}

extension Decoder {
    /// Refuses a key that `keys` does not list: a misspelt key must not be silently ignored.
    public func rejectUnknownKeys<Key: CodingKey & CaseIterable>(_ keys: Key.Type) throws {
        let known = Key.allCases.map(\.stringValue)
        let found = try container(keyedBy: AnyConfigKey.self).allKeys
        if let unknown = found.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [unknown], debugDescription:
                "unknown key (known: \(known.sorted().joined(separator: ", ")))"))
        }
    }
}

extension KeyedDecodingContainer {
    /// A number that must be finite: .inf or .nan in a configuration is a typo, never a setting.
    public func decodeFiniteIfPresent(_ key: Key) throws -> Double? {
        guard let value = try decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard value.isFinite else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "\(value) is not a finite number")
        }
        return value
    }

    /// A problem with a value already decoded (a range), reported at its key's line.
    public func problem(_ key: Key, _ text: String) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: text)
    }
}

struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
