import Analysis
import Foundation

/// One image's NETotic nucleus centres and the treatment it belongs to: what clustering measures.
public struct ImageNuclei: Sendable {
    public var image: String
    public var plate: String
    public var well: String
    /// The value of the --group-by column (e.g. the agonist) that makes the treatment.
    public var group: String
    public var width: Double
    public var height: Double
    public var netotic: [PlanePoint]
}

/// The images a clustering analysis uses: from results files (NETotic objects of `ok` images, the
/// plate map's --group-by column as the treatment) or from two CSV tables of any tool (nuclei
/// `image,x,y,class` and images `image,width,height,group`).
public struct NucleusTable: Sendable {
    public var images: [ImageNuclei]
    public var excluded: [Exclusion]
    public var sources: [String]

    /// A nuclei table's class value is NETotic when it is 2 (also written 2.0) or the word NETotic (any case).
    public static func isNETotic(_ value: String) -> Bool {
        value.lowercased() == "netotic" || Double(value) == 2
    }

    public static func fromResults(_ paths: [String], plateMap given: String?, groupBy column: String, set: ResultsSet? = nil) throws -> NucleusTable {
        let set = try set ?? ResultsSet.read(paths)
        guard let map = try set.plateMap(given: given) else {
            throw AnalyzeError(paths.joined(separator: ", "),
                               "no plate map: pass --platemap CSV (or screen with --platemap, which keeps it in the results)")
        }
        guard let at = map.columns.firstIndex(of: column) else {
            throw AnalyzeError("--group-by", "'\(column)' is not a plate-map column (columns: \(map.columns.joined(separator: ", ")))")
        }
        var images: [ImageNuclei] = [], excluded: [Exclusion] = []
        for row in set.rows {
            let r = row.result.image, o = row.result.objects
            guard r.isOK else {
                excluded.append(Exclusion(plate: r.plate, well: r.well, reason: "image \(r.name) failed: \(r.error)"))
                continue
            }
            guard let entry = map.entry(plate: r.plate, well: r.well) else {
                excluded.append(Exclusion(plate: r.plate, well: r.well, reason: "image \(r.name): not in the plate map \(map.path)"))
                continue
            }
            let points = (0..<o.count).filter { o.classes[$0] == 2 }.map { PlanePoint(x: Double(o.x[$0]), y: Double(o.y[$0])) }
            images.append(ImageNuclei(image: r.name, plate: r.plate, well: r.well, group: entry.fields[at],
                                      width: Double(r.width), height: Double(r.height), netotic: points))
        }
        return NucleusTable(images: images, excluded: excluded, sources: paths)
    }

    public static func fromTables(nuclei: String, images imagesPath: String) throws -> NucleusTable {
        func records(_ path: String, _ required: [String]) throws -> (rows: [CSVRecords.Record], at: [String: Int]) {
            guard let data = FileManager.default.contents(atPath: path) else { throw AnalyzeError(path, "no such file or not readable") }
            let records: [CSVRecords.Record]
            do { records = try CSVRecords.parse(String(decoding: data, as: UTF8.self)) } catch let e as CSVRecords.UnterminatedQuote {
                throw AnalyzeError(path, "line \(e.line): a quoted field is never closed")
            }
            guard let header = records.first else { throw AnalyzeError(path, "is empty; expected the header \(required.joined(separator: ","))") }
            let names = header.fields.map { $0.lowercased() }
            let missing = required.filter { !names.contains($0) }
            guard missing.isEmpty else {
                throw AnalyzeError(path, "header lacks \(missing.joined(separator: ", ")) (expected \(required.joined(separator: ",")))")
            }
            return (Array(records.dropFirst()), Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }))
        }
        let (imageRows, ia) = try records(imagesPath, ["image", "width", "height", "group"])
        var images: [ImageNuclei] = [], index: [String: Int] = [:]
        for r in imageRows {
            func field(_ name: String) -> String { ia[name]! < r.fields.count ? r.fields[ia[name]!] : "" }
            guard let w = Double(field("width")), let h = Double(field("height")), w > 0, h > 0, w.isFinite, h.isFinite else {
                throw AnalyzeError(imagesPath, "line \(r.line): width and height must be positive numbers")
            }
            let name = field("image")
            guard index[name] == nil else { throw AnalyzeError(imagesPath, "line \(r.line): image '\(name)' is listed twice") }
            index[name] = images.count
            func optional(_ name: String) -> String { ia[name].flatMap { $0 < r.fields.count ? r.fields[$0] : nil } ?? "" }
            images.append(ImageNuclei(image: name, plate: optional("plate"), well: optional("well"), group: field("group"),
                                      width: w, height: h, netotic: []))
        }
        let (nucleusRows, na) = try records(nuclei, ["image", "x", "y", "class"])
        for r in nucleusRows {
            func field(_ name: String) -> String { na[name]! < r.fields.count ? r.fields[na[name]!] : "" }
            guard let i = index[field("image")] else {
                throw AnalyzeError(nuclei, "line \(r.line): image '\(field("image"))' is not in \(imagesPath)")
            }
            guard isNETotic(field("class")) else { continue }
            guard let x = Double(field("x")), let y = Double(field("y")), x >= 0, y >= 0, x < images[i].width, y < images[i].height else {
                throw AnalyzeError(nuclei, "line \(r.line): x, y = \(field("x")), \(field("y")) is not inside the "
                                   + "\(Int(images[i].width))×\(Int(images[i].height)) image \(images[i].image)")
            }
            images[i].netotic.append(PlanePoint(x: x, y: y))
        }
        return NucleusTable(images: images, excluded: [], sources: [nuclei, imagesPath])
    }
}
