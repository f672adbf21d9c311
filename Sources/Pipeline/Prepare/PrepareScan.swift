import Foundation
import Imaging

/// Where an image's pixels come from: one file, or a well's fields assembled on read.
enum ImageSource: Sendable {
    case file(String)
    case well(WellImage)

    /// The path recorded in `/images/path` (a field set: its first field).
    var path: String {
        switch self {
        case .file(let p): return p
        case .well(let w): return w.paths.first ?? w.name.stem
        }
    }

    func load() throws -> GrayImage {
        switch self {
        case .file(let p): return try TIFFReader.read(p)
        case .well(let w): return try w.load()
        }
    }
}

/// One image and the annotation file that labels it.
struct AnnotatedImage: Sendable {
    var stem: String
    var source: ImageSource
    var annotationPath: String
    var markers: [Marker]
    var identity: ImageIdentity
    var imagePath: String { source.path }
}

/// Pairs images with annotation files. Problems with single files are collected (and reported
/// by the caller, one line each); only an empty or missing folder stops the run.
struct PrepareScan {
    var pairs: [AnnotatedImage] = []
    var problems: [String] = []
    var unannotated: [String] = []

    static let imageExtensions: Set<String> = ["tif", "tiff"]
    static let annotationExtensions: Set<String> = ["xml", "csv"]

    static func run(images: String, annotations: String, wells: WellConfig = .standard) throws -> PrepareScan {
        let imageFiles = try listFiles(images, extensions: imageExtensions, what: ".tif/.tiff images")
        let annotationFiles = try listFiles(annotations, extensions: annotationExtensions,
                                            what: "annotation files (Cell Counter .xml or points .csv)")
        var scan = PrepareScan()
        // Image stems must be unique: annotations name images by file name only.
        var imageByStem: [String: String] = [:]
        for path in imageFiles {
            let stem = stemOf(path)
            if let first = imageByStem[stem] {
                scan.problems.append("\(path): same name as \(first); ignored (annotations name images by file name)")
            } else {
                imageByStem[stem] = path
            }
        }
        // Field files (`plate01_B03_f05.tif`) also make up their well (`plate01_B03`), assembled on
        // read when an annotation names the well; an incomplete field set is reported when used.
        var fieldsOfWell: [String: [String]] = [:]
        for (_, path) in imageByStem.sorted(by: { $0.key < $1.key }) {
            if let name = try? wells.naming.parse(path), name.field != nil {
                fieldsOfWell["\(name.plate)_\(name.well)", default: []].append(path)
            }
        }
        var annotatedBy: [String: String] = [:]
        var covered = Set<String>()
        for path in annotationFiles {
            let set: AnnotationSet
            do {
                set = path.lowercased().hasSuffix(".csv") ? try PointsCSV.read(path) : try CellCounterXML.read(path)
            } catch {
                scan.problems.append(describe(error, path: path)); continue
            }
            let stem: String
            if let named = set.imageName?.trimmingCharacters(in: .whitespacesAndNewlines), !named.isEmpty {
                stem = stemOf(named)
            } else {
                var s = stemOf(path)
                if s.hasPrefix("CellCounter_") { s.removeFirst("CellCounter_".count) }
                stem = s
            }
            let source: ImageSource
            if let imagePath = imageByStem[stem] {
                source = .file(imagePath)
            } else if let fieldPaths = fieldsOfWell[stem] {
                for p in fieldPaths { covered.insert(stemOf(p)) }  // reported here, not as unannotated
                do {
                    let grouped = try WellCatalog.group(fieldPaths, config: wells)
                    guard grouped.count == 1 else { throw PrepareError(path: path, problem: "fields of \(stem) form \(grouped.count) wells") }
                    source = .well(grouped[0])
                } catch {
                    scan.problems.append("\(path): its well \(stem) cannot be assembled from fields: \(error); skipped")
                    continue
                }
            } else {
                let named = set.imageName.map { "names image '\($0)'" } ?? "is for image '\(stem)' (from its file name)"
                scan.problems.append("\(path): \(named), which is not in \(images); skipped")
                continue
            }
            if let first = annotatedBy[stem] {
                scan.problems.append("\(path): also annotates \(stem), already annotated by \(first); ignored")
                continue
            }
            annotatedBy[stem] = path
            scan.pairs.append(AnnotatedImage(stem: stem, source: source, annotationPath: path, markers: set.markers,
                                             identity: ImageNaming.identity(forStem: stem, naming: wells.naming)))
        }
        scan.pairs.sort { $0.stem < $1.stem }
        // Fields of an annotated well are covered by its annotation, not unannotated.
        let used = covered.union(annotatedBy.keys)
        scan.unannotated = imageByStem.keys.filter { !used.contains($0) }.sorted()
        return scan
    }

    /// File name without folder and extension; accepts '/' and '\' separators (Windows Fiji paths).
    static func stemOf(_ path: String) -> String {
        let name = path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    static func describe(_ error: Error, path: String) -> String {
        let text = "\(error)"
        return text.contains(path) ? text : "\(path): \(text)"
    }

    /// Regular files under `directory` (recursively, hidden files skipped) with one of `extensions`, sorted.
    static func listFiles(_ directory: String, extensions: Set<String>, what: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw PrepareError(path: directory, problem: "no such folder")
        }
        guard isDirectory.boolValue else { throw PrepareError(path: directory, problem: "is a file, expected a folder of \(what)") }
        let base = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw PrepareError(path: directory, problem: "cannot be listed")
        }
        var found: [String] = []
        for case let url as URL in walker where extensions.contains(url.pathExtension.lowercased()) {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                found.append(url.path)
            }
        }
        guard !found.isEmpty else { throw PrepareError(path: directory, problem: "contains no \(what)") }
        return found.sorted()
    }
}
