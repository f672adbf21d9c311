import Foundation

/// One well's image data: a stitched file, or its fields (assembled on read).
public struct WellImage: Sendable {
    public enum Source: Sendable, Equatable {
        case stitched(String)
        /// Field paths in acquisition order (index 0 = the grid's first field).
        case fields([String])
    }

    /// Plate, well, experiment (field nil).
    public var name: WellName
    public var source: Source
    public var grid: FieldGrid

    /// The files this well is read from.
    public var paths: [String] {
        switch source {
        case .stitched(let p): return [p]
        case .fields(let ps): return ps
        }
    }

    /// Reads the well: the stitched file, or all fields stitched by the grid.
    public func load() throws -> GrayImage {
        switch source {
        case .stitched(let path):
            return try TIFFReader.read(path)
        case .fields(let paths):
            let fields = try paths.map { try TIFFReader.read($0) }
            return try grid.assemble(fields, names: paths)
        }
    }
}

/// Finds the wells in a folder: parses every image name, groups fields by plate and well, and checks
/// each field set is complete.
public enum WellCatalog {
    /// Wells sorted by plate then well. Throws (naming the file) on a name no pattern parses, a field
    /// index outside the grid, a duplicate, a missing field, or a well that is both stitched and fields.
    public static func scan(_ directory: String, config: WellConfig = .standard) throws -> [WellImage] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ImageError(path: directory, problem: "is not a folder")
        }
        let entries = try fm.contentsOfDirectory(atPath: directory).sorted()
        let files = entries.filter { config.extensions.contains(($0 as NSString).pathExtension.lowercased()) && !$0.hasPrefix(".") }
        guard !files.isEmpty else {
            throw ImageError(path: directory, problem: "holds no images (\(config.extensions.map { "*.\($0)" }.joined(separator: ", ")))")
        }
        return try group(files.map { (directory as NSString).appendingPathComponent($0) }, config: config)
    }

    /// Groups image paths into wells (see `scan`).
    public static func group(_ paths: [String], config: WellConfig = .standard) throws -> [WellImage] {
        var stitched: [String: (WellName, String)] = [:]
        var fields: [String: (WellName, [Int: String])] = [:]
        let grid = config.grid
        for path in paths {
            var name = try config.naming.parse(path)
            if let f = name.field {
                let k = f - grid.firstIndex
                guard k >= 0, k < grid.count else {
                    throw ImageError(path: path, problem: "field \(f) is outside the \(grid.columns)×\(grid.rows) grid (fields \(grid.firstIndex)…\(grid.firstIndex + grid.count - 1))")
                }
                name.field = nil
                name.stem = "\(name.plate)_\(name.well)"
                var entry = fields[name.wellKey] ?? (name, [:])
                if let other = entry.1[k] {
                    throw ImageError(path: path, problem: "is field \(f) of \(name.wellKey), which \(other) already is")
                }
                entry.1[k] = path
                fields[name.wellKey] = entry
            } else {
                // Single images that carry a site (the sample's `21b_b3.2_1`, `21b_b3.3_0`) are
                // separate images of one well, not duplicates.
                let key = name.site.map { "\(name.wellKey)#\($0)" } ?? name.wellKey
                if let (_, other) = stitched[key] {
                    throw ImageError(path: path, problem: "is a second image of well \(name.wellKey) (also \(other))")
                }
                stitched[key] = (name, path)
            }
        }
        var wells: [WellImage] = []
        for (_, (name, path)) in stitched {
            if let f = fields[name.wellKey]?.1.values.sorted().first {
                throw ImageError(path: path, problem: "well \(name.wellKey) is both a stitched image and fields (e.g. \(f))")
            }
            wells.append(WellImage(name: name, source: .stitched(path), grid: grid))
        }
        for (key, (name, byIndex)) in fields {
            let missing = (0..<grid.count).filter { byIndex[$0] == nil }
            if let first = missing.first {
                let any = byIndex.values.sorted().first!
                throw ImageError(path: any, problem: "well \(key) lacks \(missing.count) of \(grid.count) fields (first missing: field \(first + grid.firstIndex))")
            }
            wells.append(WellImage(name: name, source: .fields((0..<grid.count).map { byIndex[$0]! }), grid: grid))
        }
        return wells.sorted { ($0.name.plate, $0.name.row, $0.name.column, $0.name.stem) < ($1.name.plate, $1.name.row, $1.name.column, $1.name.stem) }
    }
}
