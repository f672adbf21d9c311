import Foundation
import Storage

/// Several results files read as one (a Slurm job array writes one per task). Images are keyed by
/// plate and name; an image found in two files is reported and one row kept: an `ok` row over a
/// `failed` one, and between rows of equal status the one from the file named first.
public struct ResultsSet: Sendable {
    public struct Row: Sendable {
        public var result: ScreenResult
        /// Which file it came from.
        public var file: String
    }

    public var rows: [Row]
    public var files: [ResultsFile.Contents]
    /// One line per image found in more than one file.
    public var duplicates: [String]

    public static func read(_ paths: [String]) throws -> ResultsSet {
        guard !paths.isEmpty else { throw FileFormatError(path: "--results", problem: "no results file given") }
        var files: [ResultsFile.Contents] = []
        var byKey: [String: Row] = [:]
        var order: [String] = []
        var duplicates: [String] = []
        for path in paths {
            let contents = try ResultsFile.read(path)
            files.append(contents)
            for result in contents.results {
                let key = result.image.plate + "\u{1}" + result.image.name
                guard let kept = byKey[key] else {
                    byKey[key] = Row(result: result, file: path)
                    order.append(key)
                    continue
                }
                let replace = !kept.result.image.isOK && result.image.isOK
                duplicates.append("image \(result.image.name) (plate \(result.image.plate)) is in \(kept.file) (\(kept.result.image.status)) "
                                  + "and \(path) (\(result.image.status)); using \(replace ? path : kept.file)")
                if replace { byKey[key] = Row(result: result, file: path) }
            }
        }
        let rows = order.map { byKey[$0]! }.sorted {
            ($0.result.image.plate, $0.result.image.name) < ($1.result.image.plate, $1.result.image.name)
        }
        return ResultsSet(rows: rows, files: files, duplicates: duplicates)
    }
}
