import Foundation

/// Finding images and pairing annotation files with them (netosis segment).
public enum SegmentInputs {
    public static let imageExtensions: Set<String> = ["tif", "tiff"]

    /// One file, or every .tif/.tiff under a folder (sorted). Missing paths and empty folders are errors.
    public static func images(_ input: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
            throw ImageError(path: input, problem: "no such file or folder")
        }
        if !isDir.boolValue { return [input] }
        guard let walker = FileManager.default.enumerator(atPath: input) else {
            throw ImageError(path: input, problem: "folder cannot be read")
        }
        var found: [String] = []
        while let rel = walker.nextObject() as? String {
            let ext = (rel as NSString).pathExtension.lowercased()
            if imageExtensions.contains(ext) && !(rel as NSString).lastPathComponent.hasPrefix(".") {
                found.append((input as NSString).appendingPathComponent(rel))
            }
        }
        guard !found.isEmpty else { throw ImageError(path: input, problem: "folder holds no .tif/.tiff images") }
        return found.sorted()
    }

    public struct Pairing: Sendable {
        /// Image path → its annotations.
        public var sets: [String: AnnotationSet] = [:]
        /// One line per annotation file that could not be read or matched.
        public var problems: [String] = []
    }

    public static func stem(_ path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// Pairs annotation files with images: by Image_Filename (stem) when the file names one, else by the
    /// file's own stem without a `CellCounter_` prefix.
    public static func pairAnnotations(_ directory: String, images: [String]) throws -> Pairing {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw AnnotationError(path: directory, problem: "no such annotations folder")
        }
        var byStem: [String: String] = [:]
        for p in images { byStem[stem(p)] = p }
        var pairing = Pairing()
        let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? [])
            .filter { ["xml", "csv"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        if files.isEmpty { pairing.problems.append("\(directory): no .xml or .csv annotation files") }
        for rel in files {
            let path = (directory as NSString).appendingPathComponent(rel)
            let set: AnnotationSet
            do {
                set = path.lowercased().hasSuffix(".csv") ? try PointsCSV.read(path) : try CellCounterXML.read(path)
            } catch {
                pairing.problems.append(describe(error, path: path)); continue
            }
            var own = stem(path)
            if own.hasPrefix("CellCounter_") { own.removeFirst("CellCounter_".count) }
            let wanted = set.imageName.map { stem($0) } ?? own
            guard let image = byStem[wanted] else {
                let named = set.imageName.map { "names image '\($0)'" } ?? "is for image '\(wanted)' (from its file name)"
                pairing.problems.append("\(path): \(named), which is not among the input images; skipped")
                continue
            }
            if let previous = pairing.sets[image] {
                pairing.problems.append("\(path): image \(image) already has annotations from \(previous.sourcePath); skipped")
                continue
            }
            pairing.sets[image] = set
        }
        return pairing
    }

    /// "path: problem" for any error, without repeating the path when the error already names it.
    public static func describe(_ error: Error, path: String) -> String {
        let text = "\(error)"
        return text.hasPrefix(path) ? text : "\(path): \(text)"
    }
}
