import Foundation

/// One kind of file netosis writes, and which versions of it this build reads.
/// The per-format rule (docs/file-formats.md "Versions"): a change that only adds datasets or
/// attributes keeps older files readable (`oldestReadable` stays); any other change raises
/// `oldestReadable` to the new version, and older files are refused with `remake` as the hint.
public struct FileFormat: Sendable, Equatable {
    /// The `format` attribute, e.g. "netosis.patches".
    public let name: String
    /// The `format_version` this build writes.
    public let version: Int32
    /// The oldest `format_version` this build still reads.
    public let oldestReadable: Int32
    /// How a user makes a file of this kind, for hints ("netosis prepare").
    public let madeBy: String

    public init(name: String, version: Int32, oldestReadable: Int32? = nil, madeBy: String) {
        self.name = name; self.version = version; self.oldestReadable = oldestReadable ?? version; self.madeBy = madeBy
    }
}

/// The attributes every netosis HDF5 file carries at its root (DESIGN "File contracts"):
/// `format`, `format_version`, `created`, `tool_version` and `config` (JSON of the run's settings).
/// Readers call `read(_:path:expecting:)`, which refuses a file of another kind or of a version
/// this build cannot read with one line naming the file, what was found and what to do.
public struct FileHeader: Sendable, Equatable {
    public var format: String
    public var formatVersion: Int32
    /// ISO 8601, UTC.
    public var created: String
    public var toolVersion: String
    public var config: String

    /// A header for a new file of `format` made by this build now.
    public init(_ format: FileFormat, config: String, created: String = FileHeader.now()) {
        self.init(format: format.name, formatVersion: format.version, created: created,
                  toolVersion: ToolVersion.string, config: config)
    }

    public init(format: String, formatVersion: Int32, created: String, toolVersion: String, config: String) {
        self.format = format; self.formatVersion = formatVersion; self.created = created
        self.toolVersion = toolVersion; self.config = config
    }

    public static func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    public func write(to node: HDF5Node) throws {
        try node.setAttribute("format", format)
        try node.setAttribute("format_version", formatVersion)
        try node.setAttribute("created", created)
        try node.setAttribute("tool_version", toolVersion)
        try node.setAttribute("config", config)
    }

    /// Reads and checks the header of `node` (a file's root) against `expected`. `path` is the
    /// user's name for the file, used in messages. Missing `created`/`tool_version`/`config` read
    /// as "" (files made by other tools, e.g. imported weights); `format` and `format_version` are required.
    public static func read(_ node: HDF5Node, path: String, expecting expected: FileFormat) throws -> FileHeader {
        let hint = "make one with `\(expected.madeBy)`"
        guard node.hasAttribute("format") else {
            throw FileFormatError(path: path, problem: "not a netosis file (no 'format' attribute); expected a \(expected.name) file (\(hint))")
        }
        let format: String
        do { format = try node.stringAttribute("format") } catch {
            throw FileFormatError(path: path, problem: "its 'format' attribute is not text; expected \(expected.name) (\(hint))")
        }
        guard format == expected.name else {
            throw FileFormatError(path: path, problem: "is a \(format) file, expected a \(expected.name) file (\(hint))")
        }
        guard node.hasAttribute("format_version"), let version = try? node.attribute("format_version", as: Int32.self) else {
            throw FileFormatError(path: path, problem: "\(format) file without an integer 'format_version' attribute; \(hint)")
        }
        if version > expected.version {
            throw FileFormatError(path: path, problem: "\(format) format_version \(version) is newer than this netosis (\(ToolVersion.string)) reads (up to \(expected.version)); use the netosis that wrote it, or a newer one")
        }
        if version < expected.oldestReadable {
            throw FileFormatError(path: path, problem: "\(format) format_version \(version) is older than this netosis reads (from \(expected.oldestReadable)); re-create it with `\(expected.madeBy)`")
        }
        func text(_ name: String) -> String { (try? node.stringAttribute(name)) ?? "" }
        return FileHeader(format: format, formatVersion: version, created: text("created"),
                          toolVersion: text("tool_version"), config: text("config"))
    }

    /// Opens `path` read-only and checks its header: the one call a reader needs.
    public static func open(_ path: String, expecting expected: FileFormat,
                            mode: HDF5File.Mode = .readOnly) throws -> (HDF5File, FileHeader) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FileFormatError(path: path, problem: "no such file")
        }
        let file: HDF5File
        do { file = try HDF5File.open(path, mode: mode) } catch {
            throw FileFormatError(path: path, problem: "not a readable HDF5 file; expected a \(expected.name) file (\((error as? HDF5Error)?.problem ?? "\(error)"))")
        }
        return (file, try read(file, path: path, expecting: expected))
    }
}

/// A file that is not of the expected kind or version: "PATH: problem" on one line.
public struct FileFormatError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}
