import Foundation

/// Where one image file sits on a plate, parsed from its file name.
/// `well` is normalised to a row letter and a two-digit column (`b3` → `B03`).
public struct WellName: Equatable, Hashable, Sendable, Codable {
    /// File name without directory and extension.
    public var stem: String
    /// Experiment group (a donor run, a day); the plate when the name carries no experiment.
    public var experiment: String
    /// Plate identifier; the experiment when the name carries no plate.
    public var plate: String
    /// Normalised well, e.g. `B03`.
    public var well: String
    /// Row (0 = A) and column (1-based), as on the plate.
    public var row: Int
    public var column: Int
    /// Field index as written in the name (see `FieldGrid.firstIndex`), nil for a stitched well.
    public var field: Int?
    /// Anything else the pattern captured as `site` (e.g. `2_1` in the sample's `21b_b3.2_1`).
    public var site: String?

    /// `plate/well`, the key that groups the fields of one well.
    public var wellKey: String { "\(plate)/\(well)" }

    /// Normalises a well written as row letter(s) + column number (`b3`, `B03`, `h12`).
    /// Rows A–P and columns 1–48 cover 6- to 1536-well… up to 384-well plates (16 × 24) and wider.
    public static func normaliseWell(_ text: String) -> (well: String, row: Int, column: Int)? {
        let scalars = Array(text.uppercased().unicodeScalars)
        guard let first = scalars.first, first.value >= 65, first.value <= 80 else { return nil } // A...P
        let digits = String(String.UnicodeScalarView(scalars.dropFirst()))
        guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let column = Int(digits), column >= 1, column <= 48 else { return nil }
        let row = Int(first.value) - 65
        return (String(Character(first)) + (column < 10 ? "0\(column)" : "\(column)"), row, column)
    }

    /// Well name from row index (0 = A) and 1-based column.
    public static func wellName(row: Int, column: Int) -> String {
        let letter = Character(Unicode.Scalar(UInt8(65 + row)))
        return "\(letter)" + (column < 10 ? "0\(column)" : "\(column)")
    }
}

/// One file-name pattern: a regular expression (ICU syntax) with named groups
/// `experiment`, `plate`, `well` (or `row` + `column`), `field`, `site`. It must give a well
/// (`well`, or `row` and `column`) and at least one of `experiment` / `plate`.
public struct WellNamePattern: Sendable {
    public let name: String
    public let pattern: String
    private let regex: NSRegularExpression
    private let groups: Set<String>

    static let knownGroups = ["experiment", "plate", "well", "row", "column", "field", "site"]

    public init(name: String, pattern: String) throws {
        self.name = name
        self.pattern = pattern
        do {
            regex = try NSRegularExpression(pattern: pattern)
        } catch {
            throw WellConfigError("file-name pattern '\(name)' is not a valid regular expression: \(pattern)")
        }
        groups = Set(WellNamePattern.knownGroups.filter { pattern.contains("(?<\($0)>") })
        guard groups.contains("well") || (groups.contains("row") && groups.contains("column")) else {
            throw WellConfigError("file-name pattern '\(name)' has no (?<well>…) group (nor (?<row>…) and (?<column>…))")
        }
        guard groups.contains("plate") || groups.contains("experiment") else {
            throw WellConfigError("file-name pattern '\(name)' has neither a (?<plate>…) nor an (?<experiment>…) group")
        }
    }

    /// Parses a file stem; nil when the pattern does not match (or gives an impossible well).
    public func parse(stem: String) -> WellName? {
        let whole = NSRange(stem.startIndex..., in: stem)
        guard let match = regex.firstMatch(in: stem, options: [], range: whole),
              match.range.location == 0, match.range.length == whole.length else { return nil }
        func group(_ g: String) -> String? {
            guard groups.contains(g) else { return nil }
            let r = match.range(withName: g)
            guard r.location != NSNotFound, let range = Range(r, in: stem) else { return nil }
            let value = String(stem[range])
            return value.isEmpty ? nil : value
        }
        let wellText: String
        if let w = group("well") {
            wellText = w
        } else if let r = group("row"), let c = group("column") {
            wellText = r + c
        } else {
            return nil
        }
        guard let (well, row, column) = WellName.normaliseWell(wellText) else { return nil }
        let experiment = group("experiment") ?? group("plate")
        let plate = group("plate") ?? group("experiment")
        guard let experiment, let plate else { return nil }
        var field: Int? = nil
        if let f = group("field") {
            guard let value = Int(f) else { return nil }
            field = value
        }
        return WellName(stem: stem, experiment: experiment, plate: plate, well: well, row: row, column: column,
                        field: field, site: group("site"))
    }
}

/// Tries patterns in order; the first that matches wins.
public struct WellNaming: Sendable {
    public var patterns: [WellNamePattern]

    public init(patterns: [WellNamePattern]) { self.patterns = patterns }

    /// The built-in patterns (identical to config/wells.yaml).
    public static var standard: WellNaming { WellConfig.standard.naming }

    /// File stem of a path: last component without its extension (`a/b/21b_b3.2_1.tif` → `21b_b3.2_1`).
    public static func stem(of path: String) -> String {
        let last = (path as NSString).lastPathComponent
        let ext = (last as NSString).pathExtension.lowercased()
        return ["tif", "tiff", "gif", "png", "xml", "csv"].contains(ext) ? (last as NSString).deletingPathExtension : last
    }

    /// Parses a path or stem, or throws an error naming the file and what was expected.
    public func parse(_ path: String) throws -> WellName {
        let stem = WellNaming.stem(of: path)
        for pattern in patterns {
            if let name = pattern.parse(stem: stem) { return name }
        }
        let expected = patterns.map { $0.name }.joined(separator: ", ")
        throw ImageError(path: path, problem: "file name '\(stem)' gives no plate and well (expected a name like "
                         + "'plate01_B03', 'plate01_B03_f05' or '21b_b3.2_1'; patterns tried: \(expected))")
    }
}
