import Foundation
import Analysis
import Imaging
import Storage

/// One image a screen classifies: a single file, or a well assembled from its field files.
struct ScreenItem: Codable, Equatable, Sendable {
    /// The results row's key: the file stem, or `plate_well` for a well of fields.
    var name: String
    var plate: String
    var well: String
    var field: String
    var paths: [String]
    /// The paths are the fields of one well, in grid order.
    var assembled: Bool
    /// Known bad before reading (an incomplete field set, a duplicate name): recorded failed as is.
    var problem: String?

    var pathText: String { paths.joined(separator: ";") }
}

/// The work list of `screen`: every image under `--input DIR` (fields grouped into wells as `prepare`
/// reads them, names parsed by config/wells.yaml) or every row of a manifest CSV
/// (`plate,well,field,path`, paths relative to the manifest's folder). Problems with single images
/// become failed items; only an unreadable input stops the run.
enum ScreenWorkList {
    static func scan(_ input: String, wells: WellConfig) throws -> [ScreenItem] {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), !isFolder.boolValue,
           input.lowercased().hasSuffix(".csv") {
            return try manifest(input)
        }
        let files = try InputFiles.images(input).map { URL(fileURLWithPath: $0).path }
        return unique(folder(files, wells: wells))
    }

    static func folder(_ files: [String], wells: WellConfig) -> [ScreenItem] {
        let grid = wells.grid
        var items: [ScreenItem] = []
        var fieldSets: [String: (name: WellName, byIndex: [Int: String], problems: [String])] = [:]
        for path in files {
            let stem = WellNaming.stem(of: path)
            if var name = try? wells.naming.parse(path), let f = name.field {
                name.field = nil
                var entry = fieldSets[name.wellKey] ?? (name, [:], [])
                let k = f - grid.firstIndex
                if k < 0 || k >= grid.count {
                    entry.problems.append("\(path): field \(f) is outside the \(grid.columns)×\(grid.rows) grid (fields \(grid.firstIndex)…\(grid.firstIndex + grid.count - 1))")
                } else if let other = entry.byIndex[k] {
                    entry.problems.append("\(path): is field \(f) of \(name.wellKey), which \(other) already is")
                } else {
                    entry.byIndex[k] = path
                }
                fieldSets[name.wellKey] = entry
                continue
            }
            let id = ImageNaming.identity(forStem: stem, naming: wells.naming)
            items.append(ScreenItem(name: stem, plate: id.plate, well: id.well, field: id.field, paths: [path],
                                    assembled: false, problem: nil))
        }
        for (key, set) in fieldSets {
            let name = set.name
            let present = set.byIndex.keys.sorted().map { set.byIndex[$0]! }
            var item = ScreenItem(name: "\(name.plate)_\(name.well)", plate: name.plate, well: name.well, field: "",
                                  paths: present, assembled: true, problem: nil)
            let missing = (0..<grid.count).filter { set.byIndex[$0] == nil }
            if let problem = set.problems.first {
                item.problem = problem
            } else if let first = missing.first {
                item.problem = "well \(key) is incomplete: \(missing.count) of its \(grid.count) field images are missing "
                    + "(first missing: field \(first + grid.firstIndex)); add them or remove the well's fields"
            }
            items.append(item)
        }
        return items.sorted { $0.name < $1.name }
    }

    /// `plate,well,field,path` (header required, any column order and case, extra columns ignored;
    /// CSV as `CSVRecords` reads it). Paths are relative to the manifest's folder unless absolute.
    static func manifest(_ path: String) throws -> [ScreenItem] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ImageError(path: path, problem: "cannot read the manifest: \(FileProblem.reason(error))")
        }
        let records: [CSVRecords.Record]
        do { records = try CSVRecords.parse(text) } catch let error as CSVRecords.UnterminatedQuote {
            throw ImageError(path: path, problem: "line \(error.line): a quoted field is never closed")
        }
        guard let headerRecord = records.first else { throw ImageError(path: path, problem: "is empty; expected a header plate,well,field,path") }
        let header = headerRecord.fields.map { $0.lowercased() }
        guard let pathColumn = header.firstIndex(of: "path") else {
            throw ImageError(path: path, problem: "line \(headerRecord.line): no 'path' column (expected plate,well,field,path)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        func column(_ name: String, _ fields: [String]) -> String {
            header.firstIndex(of: name).flatMap { $0 < fields.count ? fields[$0] : nil } ?? ""
        }
        var items: [ScreenItem] = []
        for record in records.dropFirst() {
            let fields = record.fields
            guard pathColumn < fields.count, !fields[pathColumn].isEmpty else {
                throw ImageError(path: path, problem: "line \(record.line): no path")
            }
            let given = fields[pathColumn]
            let file = given.hasPrefix("/") ? given : folder.appendingPathComponent(given).path
            var well = column("well", fields)
            if let w = WellName.normaliseWell(well) { well = w.well }
            items.append(ScreenItem(name: WellNaming.stem(of: file), plate: column("plate", fields), well: well,
                                    field: column("field", fields), paths: [file], assembled: false, problem: nil))
        }
        guard !items.isEmpty else { throw ImageError(path: path, problem: "lists no images") }
        return unique(items.sorted { $0.name < $1.name })
    }

    /// A second image with a name already taken is failed (its rows would be indistinguishable).
    static func unique(_ items: [ScreenItem]) -> [ScreenItem] {
        var seen: [String: String] = [:]
        return items.map { item in
            var item = item
            if let first = seen[item.name] {
                item.problem = item.problem ?? "\(item.pathText): has the same name '\(item.name)' as \(first); rename one of them"
                item.name += "#\(item.pathText)"
            } else {
                seen[item.name] = item.pathText
            }
            return item
        }
    }
}
