import Foundation
import Storage

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

    enum CodingKeys: String, CodingKey, CaseIterable { case types }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decode([String: String].self, forKey: .types)
        let types = try c.nestedContainer(keyedBy: TypeKey.self, forKey: .types)
        var map: [Int: NucleusClass] = [:]
        for (key, value) in raw.sorted(by: { $0.key < $1.key }) {
            guard let type = Int(key.trimmingCharacters(in: .whitespaces)), (0...1000).contains(type) else {
                throw types.problem(TypeKey(key), "marker type '\(key)' is not a whole number in 0…1000")
            }
            if let cls = Self.parseClass(value) { map[type] = cls }
            else if value.lowercased() != "ignore" {
                throw types.problem(TypeKey(key), "'\(value)' is not one of other, non-NETotic, NETotic, ignore, 0, 1, 2")
            }
        }
        classes = map
    }

    /// A marker type as written in the file (a mapping key).
    struct TypeKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ key: String) { stringValue = key }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
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
        try ConfigFile.load(ClassMap.self, from: path)
    }
}
