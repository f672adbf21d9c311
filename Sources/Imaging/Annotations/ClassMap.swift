import Foundation
import Yams

/// Maps annotation marker types (Cell Counter types 1...n) to classifier classes.
/// Default (DESIGN): 1 → non-NETotic, 2 → NETotic, 3/4/5 → other. A type not in the map is ignored (nil).
/// YAML form (config/annotations.yaml): `types: {1: non-NETotic, 2: NETotic, 3: other, 4: other, 5: other}`;
/// a class may be written by name (`other`, `non-NETotic`, `NETotic`, `ignore`) or number (0, 1, 2).
public struct ClassMap: Codable, Sendable, Equatable {
    public var classes: [Int: NucleusClass]

    public init(_ classes: [Int: NucleusClass]) { self.classes = classes }

    public static let standard = ClassMap([1: .nonNETotic, 2: .netotic, 3: .other, 4: .other, 5: .other])

    /// The class for a marker type, or nil if markers of this type are to be ignored.
    public func nucleusClass(forType type: Int) -> NucleusClass? { classes[type] }

    enum CodingKeys: String, CodingKey { case types }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decode([String: String].self, forKey: .types)
        var map: [Int: NucleusClass] = [:]
        for (key, value) in raw {
            guard let type = Int(key.trimmingCharacters(in: .whitespaces)) else {
                throw DecodingError.dataCorruptedError(forKey: .types, in: c,
                    debugDescription: "marker type '\(key)' is not an integer")
            }
            if let cls = Self.parseClass(value) { map[type] = cls }
            else if value.lowercased() != "ignore" {
                throw DecodingError.dataCorruptedError(forKey: .types, in: c,
                    debugDescription: "type \(type): unknown class '\(value)' (use other, non-NETotic, NETotic, ignore or 0/1/2)")
            }
        }
        classes = map
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var raw: [String: String] = [:]
        for (k, v) in classes { raw[String(k)] = v.name }
        try c.encode(raw, forKey: .types)
    }

    static func parseClass(_ text: String) -> NucleusClass? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Int(t) { return NucleusClass(rawValue: n) }
        switch t {
        case "other": return .other
        case "non-netotic", "nonnetotic", "non_netotic": return .nonNETotic
        case "netotic": return .netotic
        default: return nil
        }
    }

    /// Loads a YAML file with a `types:` mapping.
    public static func load(_ path: String) throws -> ClassMap {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: path, problem: "cannot read the file (missing, unreadable or not UTF-8)")
        }
        do {
            return try YAMLDecoder().decode(ClassMap.self, from: text)
        } catch let error as DecodingError {
            throw ConfigError(path: path, problem: SegmentationConfig.describe(error))
        } catch {
            throw ConfigError(path: path, problem: "not valid YAML: \(error)")
        }
    }
}
