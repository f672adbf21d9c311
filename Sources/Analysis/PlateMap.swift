import Foundation

/// One well of the plate map: what it was treated with and whose cells it holds.
public struct PlateMapEntry: Equatable, Sendable {
    public let plate: String
    /// Normalised well name (`B03`), its row (0 = A) and 1-based column.
    public let well: String
    public let row: Int
    public let column: Int
    public let agonist: String
    public let concentration: Double
    public let unit: String
    public let vehiclePct: Double
    public let donor: String
    public let genotype: String
    /// Values of the columns beyond the required eight, in the order of `PlateMap.extraColumns`.
    public let extra: [String]
    /// Every field in the order of `PlateMap.columns`, as written except the well, which is normalised
    /// (for joining onto exported tables).
    public let fields: [String]
    /// 1-based line of the row in its file.
    public let line: Int
}

/// The plate-map CSV (`plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype`, extra
/// columns kept in order). A header naming the columns (any order, any case) is required; wells
/// are normalised (`b3` → `B03`); each plate + well appears once; concentration and vehicle_pct
/// are non-negative numbers (0 for a vehicle control, never empty).
public struct PlateMap: Sendable {
    public static let requiredColumns = ["plate", "well", "agonist", "concentration", "unit", "vehicle_pct",
                                         "donor", "genotype"]

    /// The file it was read from (as given).
    public let path: String
    /// Header names, lower-cased and trimmed, in file order.
    public let columns: [String]
    /// The columns beyond the required eight, in file order.
    public let extraColumns: [String]
    /// Rows in file order.
    public let entries: [PlateMapEntry]
    private let index: [PlateKey: Int]

    private struct PlateKey: Hashable { let plate: String, well: String }

    /// The entry of a plate's well (`B3`, `b03` and `B03` are the same well); nil when not mapped.
    public func entry(plate: String, well: String) -> PlateMapEntry? {
        guard let w = PlateWell.normalise(well) else { return nil }
        return index[PlateKey(plate: plate, well: w.well)].map { entries[$0] }
    }

    public static func read(_ path: String) throws -> PlateMap {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            throw PlateMapError(path: path, problem: !exists ? "no such file"
                                : isFolder.boolValue ? "is a folder, not a plate-map CSV" : "cannot be read (permission denied)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PlateMapError(path: path, problem: "is not UTF-8 text (save the plate map as CSV UTF-8)")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> PlateMap {
        let records: [CSVRecords.Record]
        do {
            records = try CSVRecords.parse(text)
        } catch let error as CSVRecords.UnterminatedQuote {
            throw PlateMapError(path: path, line: error.line, problem: "a quoted field is never closed (missing \")")
        }
        guard let header = records.first else {
            throw PlateMapError(path: path, problem: "is empty; expected the header \(requiredColumns.joined(separator: ","))")
        }
        let columns = header.fields.map { $0.lowercased() }
        if let empty = columns.firstIndex(of: "") {
            throw PlateMapError(path: path, line: header.line, problem: "header column \(empty + 1) has no name")
        }
        if let repeated = columns.first(where: { name in columns.filter { $0 == name }.count > 1 }) {
            throw PlateMapError(path: path, line: header.line, problem: "header names column '\(repeated)' twice")
        }
        let missing = requiredColumns.filter { !columns.contains($0) }
        guard missing.isEmpty else {
            throw PlateMapError(path: path, line: header.line,
                                problem: "header lacks the required column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) "
                                + "(expected \(requiredColumns.joined(separator: ",")), got \(header.fields.joined(separator: ",")))")
        }
        let at = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, $0) })
        let extraIndices = columns.indices.filter { !requiredColumns.contains(columns[$0]) }

        var entries: [PlateMapEntry] = []
        var index: [PlateKey: Int] = [:]
        for record in records.dropFirst() {
            let line = record.line
            var fields = record.fields
            // Spreadsheets pad rows with empty cells; anything else beyond the header is an error.
            while fields.count > columns.count, fields.last == "" { fields.removeLast() }
            guard fields.count == columns.count else {
                throw PlateMapError(path: path, line: line, problem: "\(fields.count) fields, but the header has \(columns.count)")
            }
            func value(_ name: String) -> String { fields[at[name]!] }
            func number(_ name: String) throws -> Double {
                let text = value(name)
                guard let v = Double(text), v.isFinite else {
                    throw PlateMapError(path: path, line: line, problem: text.isEmpty
                                        ? "\(name) is empty (write 0 for none)" : "\(name) '\(text)' is not a number")
                }
                guard v >= 0 else { throw PlateMapError(path: path, line: line, problem: "\(name) \(text) is negative") }
                return v
            }
            let plate = value("plate")
            guard !plate.isEmpty else { throw PlateMapError(path: path, line: line, problem: "plate is empty") }
            guard let well = PlateWell.normalise(value("well")) else {
                throw PlateMapError(path: path, line: line,
                                    problem: "well '\(value("well"))' is not a well name (row A–P and column 1–48, like B03)")
            }
            let key = PlateKey(plate: plate, well: well.well)
            if let earlier = index[key] {
                throw PlateMapError(path: path, line: line,
                                    problem: "well \(well.well) of plate \(plate) is already on line \(entries[earlier].line)")
            }
            fields[at["well"]!] = well.well
            let entry = PlateMapEntry(plate: plate, well: well.well, row: well.row, column: well.column,
                                      agonist: value("agonist"), concentration: try number("concentration"),
                                      unit: value("unit"), vehiclePct: try number("vehicle_pct"),
                                      donor: value("donor"), genotype: value("genotype"),
                                      extra: extraIndices.map { fields[$0] }, fields: fields, line: line)
            index[key] = entries.count
            entries.append(entry)
        }
        guard !entries.isEmpty else {
            throw PlateMapError(path: path, problem: "has a header but no wells")
        }
        return PlateMap(path: path, columns: columns, extraColumns: extraIndices.map { columns[$0] },
                        entries: entries, index: index)
    }
}
