import Foundation

/// Writes a file so that readers see either the old file or the complete new one, never a
/// half-written one: write to a temporary in the same directory → fsync → rename → fsync dir.
public enum AtomicFile {
    /// Calls `body` with a temporary path to fill, then atomically moves it to `path`.
    /// If `body` throws, the temporary is removed and `path` is untouched.
    public static func write<R>(to path: String, _ body: (_ temporaryPath: String) throws -> R) throws -> R {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = "\(directory)/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let result = try body(temporary)
            try syncFile(temporary)
            guard rename(temporary, path) == 0 else { throw posixError("rename to \(path)") }
            try syncFile(directory)
            return result
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Atomically replaces `path` with `data`.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try data.write(to: URL(fileURLWithPath: $0)) }
    }

    /// fsync a file or directory by path.
    public static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw posixError("open \(path) for fsync") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw posixError("fsync \(path)") }
    }

    private static func posixError(_ what: String) -> Error {
        NSError(domain: "AtomicFile", code: Int(errno),
                userInfo: [NSLocalizedDescriptionKey: "\(what): \(String(cString: strerror(errno)))"])
    }
}
