import Foundation

/// One file a verb is about to write, checked before any work starts (docs/file-formats.md
/// "Outputs"): never one of the inputs (same device and inode, through links), never a file of
/// another kind, an earlier file of its own kind only with --overwrite, and a folder that can be
/// written. Writing goes through `AtomicFile`: the target holds the old file or the complete new one.
public struct OutputFile: Sendable {
    /// The path as the user gave it.
    public let path: String
    /// What a file of this kind is called in messages ("predictions file (netosis.predictions)").
    public let kind: String
    /// True if a file was there before (and will be replaced).
    public let replaces: Bool

    /// Checks `path` and removes temporaries of it left by dead processes on this host.
    /// - inputs: every file the run reads (the output may be none of them).
    /// - isOwnKind: whether an existing file at `path` is one this verb wrote (and may replace).
    /// - overwriteFlag: the flag that allows replacing, named in the message.
    public static func check(_ path: String, kind: String, inputs: [String], overwrite: Bool,
                             overwriteFlag: String = "--overwrite", isOwnKind: (String) -> Bool) throws -> OutputFile {
        func refuse(_ problem: String) -> OutputError { OutputError(path: path, problem: problem) }
        guard !path.isEmpty else { throw refuse("empty output path") }
        var own = stat()
        let exists = stat(path, &own) == 0
        if exists {
            for input in inputs {
                var other = stat()
                if stat(input, &other) == 0, other.st_dev == own.st_dev, other.st_ino == own.st_ino {
                    let same = input == path ? "" : " (\(input))"
                    throw refuse("is also an input of this run\(same); write the output to another path")
                }
            }
            if (own.st_mode & S_IFMT) == S_IFDIR { throw refuse("is a folder; give a file path for the output") }
            guard isOwnKind(path) else {
                throw refuse("exists and is not a \(kind); netosis replaces only its own outputs (move it away or choose another path)")
            }
            guard overwrite else { throw refuse("exists; pass \(overwriteFlag) to replace it") }
        }
        try ensureWritableFolder(for: path)
        TemporaryFiles.removeStale(besides: path)
        return OutputFile(path: path, kind: kind, replaces: exists)
    }

    /// Writes the file atomically (see AtomicFile).
    public func write<R>(_ body: (_ temporaryPath: String) throws -> R) throws -> R {
        try AtomicFile.write(to: path, body)
    }

    /// Writes several files that belong together (a table and its companion): every one is
    /// written completely to its temporary before any is renamed into place, so a failure while
    /// writing leaves all of them as they were.
    public static func writeTogether(_ parts: [(OutputFile, (_ temporaryPath: String) throws -> Void)]) throws {
        var ready: [(OutputFile, String)] = []
        defer { for (_, temporary) in ready { unlink(temporary); TemporaryFiles.unregister(temporary) } }
        for (output, body) in parts {
            let temporary = TemporaryFiles.create(besides: output.path)
            ready.append((output, temporary))
            do {
                try body(temporary)
                try AtomicFile.syncFile(temporary)
            } catch {
                throw WriteError(path: output.path, problem: AtomicFile.describe(error, temporary: temporary, path: output.path))
            }
        }
        try FaultPoint.pass("atomic-rename")
        for (output, temporary) in ready {
            guard rename(temporary, output.path) == 0 else {
                throw WriteError(path: output.path, problem: "rename into place: \(String(cString: strerror(errno)))")
            }
        }
        for (output, _) in ready { try AtomicFile.syncFile(URL(fileURLWithPath: output.path).deletingLastPathComponent().path) }
    }

    /// Creates the output's folder if needed and proves it writable with a probe file, so a
    /// read-only or missing location fails before hours of work, not after.
    public static func ensureWritableFolder(for path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw OutputError(path: path, problem: "\(directory) is a file, not a folder")
            }
        } else {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            catch { throw OutputError(path: path, problem: "cannot create folder \(directory): \(reason(error))") }
        }
        let probe = TemporaryFiles.create(besides: path)
        defer { TemporaryFiles.unregister(probe) }
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw OutputError(path: path, problem: "cannot write in folder \(directory): \(String(cString: strerror(errno)))")
        }
        close(fd)
        unlink(probe)
    }

    /// The system's reason without Foundation's wrapping ("You don't have permission…" → errno text).
    public static func reason(_ error: Error) -> String { FileProblem.reason(error) }
}

/// An output that may not be written where asked: "PATH: problem".
public struct OutputError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

extension FileFormat {
    /// True if `path` is an HDF5 file whose header names this format (any version): a file this
    /// format's verb may replace with --overwrite.
    public func isFormat(of path: String) -> Bool {
        guard HDF5File.isHDF5(path), let file = try? HDF5File.open(path) else { return false }
        return (try? file.stringAttribute("format")) == name
    }
}
