import Foundation
import Storage

/// Finding input files: the one listing `netosis segment` and `netosis prepare` use for images and
/// annotation files alike.
public enum InputFiles {
    public static let imageExtensions: Set<String> = ["tif", "tiff"]
    public static let annotationExtensions: Set<String> = ["xml", "csv"]

    /// The .tif/.tiff images under the folder `root` (or, with `fileAllowed`, the file `root`); see `list`.
    public static func images(_ root: String, fileAllowed: Bool = false) throws -> [String] {
        try list(root, extensions: imageExtensions, what: ".tif/.tiff images", fileAllowed: fileAllowed)
    }

    /// The Cell Counter .xml and points .csv files under the folder `root`; see `list`.
    public static func annotationFiles(_ root: String) throws -> [String] {
        try list(root, extensions: annotationExtensions, what: "annotation files (Cell Counter .xml or points .csv)")
    }

    /// The files under the folder `root` whose extension (any case) is one of `extensions`: searched
    /// recursively, hidden files and folders (name starting with '.') skipped, a link to a file counted
    /// (linked folders are not entered), sorted by path. Each path is `root` joined with the path below
    /// it, so a relative `root` gives relative paths (pass an absolute root to get absolute paths).
    /// With `fileAllowed`, `root` may also be one file, returned as it is whatever its extension.
    /// Throws (`root: problem`) when `root` is missing, is a file where a folder is needed, cannot be
    /// listed, or holds no such file; `what` names the files in that message (".tif/.tiff images").
    public static func list(_ root: String, extensions: Set<String>, what: String,
                            fileAllowed: Bool = false) throws -> [String] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw ImageError(path: root, problem: fileAllowed ? "no such file or folder" : "no such folder")
        }
        guard isDirectory.boolValue else {
            if fileAllowed { return [root] }
            throw ImageError(path: root, problem: "is a file, expected a folder of \(what)")
        }
        guard let walker = fm.enumerator(atPath: root) else {
            throw ImageError(path: root, problem: "cannot be listed")
        }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") { walker.skipDescendants(); continue }
            guard extensions.contains((name as NSString).pathExtension.lowercased()) else { continue }
            let path = (root as NSString).appendingPathComponent(relative)
            // fileExists follows links: a link to an image counts, a folder named x.tif does not.
            var isFolder: ObjCBool = false
            if fm.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue { found.append(path) }
        }
        guard !found.isEmpty else { throw ImageError(path: root, problem: "contains no \(what)") }
        return found.sorted()
    }

    /// One line for a problem with an input file: "path: problem", without repeating the path when
    /// the error already starts with it (see `FileProblem`).
    public static func describe(_ error: Error, path: String) -> String { FileProblem.describe(error, path: path) }
}
