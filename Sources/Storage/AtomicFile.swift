import Foundation

/// Writes a file so that readers see either the old file or the complete new one, never a
/// half-written one: write to a temporary in the same directory → fsync → rename → fsync dir.
/// The temporary is named `.NAME.tmp-HOST-PID-XXXX` (TemporaryFiles) and is removed on any failure
/// and on SIGINT/SIGTERM; errors name the user's path, never the temporary.
public enum AtomicFile {
    /// Calls `body` with a temporary path to fill, then atomically moves it to `path`.
    /// If `body` throws, the temporary is removed and `path` is untouched.
    public static func write<R>(to path: String, _ body: (_ temporaryPath: String) throws -> R) throws -> R {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let temporary = TemporaryFiles.create(besides: path)
        defer { TemporaryFiles.unregister(temporary) }
        do {
            let result = try body(temporary)
            try syncFile(temporary)
            try FaultPoint.pass("atomic-rename")
            guard rename(temporary, path) == 0 else { throw posixError("rename into place") }
            try syncFile(directory)
            return result
        } catch {
            unlink(temporary)
            throw WriteError(path: path, problem: describe(error, temporary: temporary, path: path))
        }
    }

    /// Atomically replaces `path` with `data`.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try writeBytes(data, to: $0) }
    }

    /// Writes `data` to a new file at `path` (no rename: for use inside `write(to:_:)`), checking
    /// every write so that a full disk is an error.
    public static func writeBytes(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw posixError("create") }
        do {
            try FaultPoint.pass("write-bytes")
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 { if errno == EINTR { continue }; throw posixError("write") }
                    offset += n
                }
            }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw posixError("close") }
    }

    /// fsync a file or directory by path.
    public static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw posixError("open for fsync") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw posixError("fsync") }
    }

    static func posixError(_ what: String) -> Error {
        WriteError(path: "", problem: "\(what): \(String(cString: strerror(errno)))")
    }

    /// One line: the underlying problem with the temporary's name replaced by the user's path
    /// (or removed where it would repeat it).
    static func describe(_ error: Error, temporary: String, path: String) -> String {
        var text = (error as? WriteError)?.problem ?? "\(error)"
        text = text.replacingOccurrences(of: temporary + ": ", with: "")
        text = text.replacingOccurrences(of: temporary, with: path)
        if text.hasPrefix(path + ": ") { text.removeFirst(path.count + 2) }
        return text.split(separator: "\n").joined(separator: " ")
    }
}

/// An output that could not be written; the target was left as it was.
public struct WriteError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String {
        path.isEmpty ? problem : "\(path): not written (\(problem)); the previous file, if any, is unchanged"
    }
}
