import Foundation
import Storage

/// The output folder of an `analyze` verb: every file is checked before any is written (an earlier
/// file is replaced only with --overwrite, and only when netosis wrote it: a CSV recognised by its
/// header line, JSON by a marker anywhere, SVG by one in its first 8 kB), then all are written together.
enum AnalysisFolder {
    /// `headers[i]` is the header of CSV file i; files past the headers are recognised by `marker(i)`.
    static func check(_ folder: String, files: [String], kind: String, inputs: [String], overwrite: Bool,
                      headers: [String], marker: (Int) -> String) throws -> [OutputFile] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try files.enumerated().map { i, name -> OutputFile in
            let path = (folder as NSString).appendingPathComponent(name)
            return try OutputFile.check(path, kind: kind, inputs: inputs, overwrite: overwrite) { p in
                if i < headers.count { return ExportJob.firstLine(p) == headers[i] }
                // JSON is written with sorted keys, so its "format" can come after a long "excluded" list:
                // JSON files are searched whole (up to 256 MB), SVG in their first 8 kB.
                let limit = name.hasSuffix(".json") ? 256 << 20 : 8192
                let head = FileHandle(forReadingAtPath: p).flatMap { try? $0.read(upToCount: limit) } ?? Data()
                return String(decoding: head, as: UTF8.self).contains(marker(i))
            }
        }
    }

    static func write(_ outputs: [OutputFile], _ texts: [String]) throws {
        try OutputFile.writeTogether(zip(outputs, texts).map { output, text in
            (output, { try AtomicFile.writeBytes(Data(text.utf8), to: $0) })
        })
    }

    /// A number as a CSV cell: its shortest exact form, empty for nil, NaN and ±∞.
    static func cell(_ v: Double?) -> String { v.map { $0.isFinite ? ExportJob.number($0) : "" } ?? "" }

    /// nil for NaN and ±∞, which JSON cannot hold.
    static func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
}
