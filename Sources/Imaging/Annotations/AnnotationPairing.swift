import Foundation

extension AnnotationSet {
    /// Reads one annotation file: a points CSV (`.csv`, any case) or else Fiji Cell Counter XML.
    public static func read(_ path: String) throws -> AnnotationSet {
        path.lowercased().hasSuffix(".csv") ? try PointsCSV.read(path) : try CellCounterXML.read(path)
    }
}

/// Where a paired image's pixels come from: one file, or a well assembled from its field files on read.
public enum ImageSource: Sendable {
    case file(String)
    case well(WellImage)

    /// The image file; for a well of fields, its first field (what `prepare` records as the path).
    public var path: String {
        switch self {
        case .file(let p): return p
        case .well(let w): return w.paths.first ?? w.name.stem
        }
    }

    /// Every file the image is read from.
    public var paths: [String] {
        switch self {
        case .file(let p): return [p]
        case .well(let w): return w.paths
        }
    }

    public func load() throws -> GrayImage {
        switch self {
        case .file(let p): return try TIFFReader.read(p)
        case .well(let w): return try w.load()
        }
    }
}

/// Pairs images with annotation files: the one pairing of `netosis segment --annotations` and
/// `netosis prepare`, so both commands label the same images from the same folders.
///
/// Rules, in the order they apply:
/// 1. Images are named by their file stem (name without folder and extension), the only thing an
///    annotation file can name. Two images with one stem (`a/x.tif`, `b/x.tif`, or `x.tif` beside
///    `x.tiff`): the first in path order keeps the name, the other is reported and gets no annotation
///    (segment still segments it; prepare skips it).
/// 2. Each annotation file (`.csv`: points CSV, else Cell Counter XML) is read; an unreadable one is
///    reported (its path and the reader's line-numbered reason) and skipped.
/// 3. Its image: the name in `Image_Filename` (or the CSV's `image` column), trimmed of surrounding
///    whitespace, folder dropped at '/' or '\' (Fiji on Windows writes `C:\data\x.tif`), extension
///    dropped (so `x.tif` finds `x.tiff`, and a `.gif` or `.nd2` original finds its `.tif`); a name
///    given without extension but with a dot (`21b_b3.2_1`) is tried whole when the shortened name
///    finds nothing. A file that names no image (or an empty name) is for the image named like the
///    file itself, less a `CellCounter_` prefix (any case): `CellCounter_x.xml` and `x.csv` are for `x`.
///    A name that is there is never second-guessed from the file name: a file naming a missing image
///    is reported and skipped.
/// 4. With `assemblingWells`, a name that is no image but a well stored as field files
///    (`plate01_B03` for `plate01_B03_f01.tif` …, patterns and grid from the well configuration)
///    gets the well assembled from its fields on read; an incomplete field set is reported and
///    skipped, and the fields of a named well are not listed as unannotated. Without it (segment,
///    which measures single files) such an annotation is reported as naming a well held as fields.
/// 5. A second annotation file for an image already annotated (path order: `CellCounter_x.xml`
///    before `x.csv`) is reported and skipped: markers are never merged across files.
/// Every problem is one line starting with the file it concerns. Nothing here throws except listing
/// a missing or empty annotation folder (`scan`).
///
/// Where segment and prepare used to differ, the choice is what a scientist re-running either command
/// on the same folders expects: the same images annotated by the same files. Segment took the last of
/// two same-named images silently and missed Windows paths and padded names; both now keep the first
/// and say so, and read `C:\…\x.tif` and ` x.tif `. An annotation folder with no annotation files is an
/// error for both (a wrong folder is caught before a long run, not in a warning after it).
public struct AnnotationPairing: Sendable {
    public struct Pair: Sendable {
        /// The image's name: its file stem, or `plate_well` for a well assembled from fields.
        public var stem: String
        public var image: ImageSource
        public var annotations: AnnotationSet
        public var annotationPath: String { annotations.sourcePath }
    }

    /// Sorted by stem.
    public var pairs: [Pair] = []
    /// One line per problem, naming its file.
    public var problems: [String] = []
    /// Images (paths, sorted) no annotation file is for; a duplicate-name image is in `problems` instead.
    public var unannotated: [String] = []

    /// Image path → its annotations, for the pairs that are single files.
    public var annotationsByImage: [String: AnnotationSet] {
        var sets: [String: AnnotationSet] = [:]
        for pair in pairs { if case .file(let path) = pair.image { sets[path] = pair.annotations } }
        return sets
    }

    /// Lists the annotation files under the folder `annotations` (`InputFiles.annotationFiles`: throws
    /// when it is missing or holds none) and pairs them with `images` (see `pair`).
    public static func scan(images: [String], from input: String, annotations: String,
                            assemblingWells wells: WellConfig? = nil) throws -> AnnotationPairing {
        pair(images: images, from: input, annotationFiles: try InputFiles.annotationFiles(annotations),
             assemblingWells: wells)
    }

    /// Pairs image paths (in the order listed, e.g. by `InputFiles`) with annotation files (read in the
    /// order given). `input` (the folder or file the images came from) is quoted in messages.
    public static func pair(images: [String], from input: String, annotationFiles: [String],
                            assemblingWells wells: WellConfig? = nil) -> AnnotationPairing {
        var result = AnnotationPairing()
        var imageByStem: [String: String] = [:]
        for path in images {
            let name = stem(path)
            if let first = imageByStem[name] {
                result.problems.append("\(path): same file name as \(first); annotations name images by file name, "
                                       + "so only the first can be annotated")
            } else {
                imageByStem[name] = path
            }
        }
        // Field files (`plate01_B03_f05.tif`) also make up their well (`plate01_B03`).
        let naming = (wells ?? .standard).naming
        var fieldsOfWell: [String: [String]] = [:]
        for (_, path) in imageByStem.sorted(by: { $0.key < $1.key }) {
            if let name = try? naming.parse(path), name.field != nil {
                fieldsOfWell["\(name.plate)_\(name.well)", default: []].append(path)
            }
        }
        var annotatedBy: [String: String] = [:]
        var covered = Set<String>()  // fields of a named well: reported with it, never as unannotated
        for file in annotationFiles {
            let set: AnnotationSet
            do {
                set = try AnnotationSet.read(file)
            } catch {
                result.problems.append(InputFiles.describe(error, path: file)); continue
            }
            let named = set.imageName?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let candidates = stems(named: named) ?? stems(annotationFile: file)
            let stem = candidates.first { imageByStem[$0] != nil || fieldsOfWell[$0] != nil } ?? candidates[0]
            let says = named.isEmpty ? "is for image '\(stem)' (from its file name)" : "names image '\(named)'"
            let image: ImageSource
            if let path = imageByStem[stem] {
                image = .file(path)
            } else if let fields = fieldsOfWell[stem] {
                guard let wells else {
                    result.problems.append("\(file): \(says), which the input holds only as field files (\(fields[0]) …); "
                                           + "wells are assembled from fields by prepare only; skipped")
                    continue
                }
                for p in fields { covered.insert(Self.stem(p)) }
                do {
                    let grouped = try WellCatalog.group(fields, config: wells)
                    guard grouped.count == 1 else {
                        throw ImageError(path: fields[0], problem: "fields of \(stem) form \(grouped.count) wells")
                    }
                    image = .well(grouped[0])
                } catch {
                    result.problems.append("\(file): its well \(stem) cannot be assembled from fields: \(error); skipped")
                    continue
                }
            } else {
                result.problems.append("\(file): \(says), which is not among the input images (\(input)); skipped")
                continue
            }
            if let first = annotatedBy[stem] {
                result.problems.append("\(file): also annotates \(stem), already annotated by \(first); skipped")
                continue
            }
            annotatedBy[stem] = file
            result.pairs.append(Pair(stem: stem, image: image, annotations: set))
        }
        result.pairs.sort { $0.stem < $1.stem }
        let used = covered.union(annotatedBy.keys)
        result.unannotated = imageByStem.filter { !used.contains($0.key) }.map(\.value).sorted()
        return result
    }

    /// File name without folder and extension; '/' and '\' both separate folders (Windows Fiji paths).
    public static func stem(_ path: String) -> String {
        let name = lastComponent(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    static func lastComponent(_ path: String) -> String {
        path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? path
    }

    /// Stems an image name may stand for, most likely first: without its extension, then whole
    /// (a name written without extension whose stem has a dot). nil for an empty name.
    static func stems(named name: String) -> [String]? {
        guard !name.isEmpty else { return nil }
        let whole = lastComponent(name), short = stem(name)
        return short == whole ? [whole] : [short, whole]
    }

    /// Stems an annotation file stands for by its own name: less a `CellCounter_` prefix, then as it is.
    static func stems(annotationFile path: String) -> [String] {
        let own = stem(path)
        let prefix = "CellCounter_"
        guard own.count > prefix.count, own.lowercased().hasPrefix(prefix.lowercased()) else { return [own] }
        return [String(own.dropFirst(prefix.count)), own]
    }
}
