import Foundation
import Storage

/// The crash-safe half of results.h5: an append-only file `OUT.journal` beside it, one record per
/// finished image, each fsynced before the image counts as done. HDF5 files are not crash-consistent
/// (a process killed mid-write can leave one unreadable), so results.h5 is only ever replaced whole,
/// atomically, at the end of a run; until then the journal is the record.
///
/// Record: magic "NRJ1", payload length (UInt64 LE), payload, the first 8 bytes of the payload's
/// SHA-256. The first record's payload is the `ScreenIdentity` JSON, every later one a
/// `ScreenResult.encoded()`. Reading stops at the first record that is short or fails its checksum
/// (a write cut by a crash): that tail is cut off before anything is appended.
final class ResultsJournal {
    static let magic: [UInt8] = Array("NRJ1".utf8)
    let path: String
    private var handle: FileHandle?

    /// What an existing journal holds.
    struct Replay {
        var identity: ScreenIdentity?
        var results: [ScreenResult] = []
        /// Bytes of valid records (the torn tail beyond is dropped).
        var validLength = 0
        var droppedBytes = 0
    }

    init(path: String) { self.path = path }

    static func path(for results: String) -> String { results + ".journal" }

    /// Reads every valid record; a missing file is an empty journal.
    static func replay(_ path: String) throws -> Replay {
        guard let data = FileManager.default.contents(atPath: path) else { return Replay() }
        let bytes = [UInt8](data)
        var replay = Replay()
        var at = 0
        while at + 12 <= bytes.count {
            guard Array(bytes[at..<at + 4]) == magic else { break }
            let length = bytes[at + 4..<at + 12].withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
            let end = at + 12 + length + 8
            guard length >= 0, end <= bytes.count, end > at else { break }
            let payload = Array(bytes[at + 12..<at + 12 + length])
            guard Array(bytes[end - 8..<end]) == digest(payload) else { break }
            if replay.identity == nil {
                guard let identity = try? JSONDecoder().decode(ScreenIdentity.self, from: Data(payload)) else {
                    throw FileFormatError(path: path, problem: "is not a screen journal (its first record is not a screen configuration)")
                }
                replay.identity = identity
            } else {
                guard let result = try? ScreenResult.decode(payload) else { break }
                replay.results.append(result)
            }
            at = end
            replay.validLength = at
        }
        replay.droppedBytes = bytes.count - replay.validLength
        return replay
    }

    /// Opens for appending after `replay` (cutting a torn tail), or starts a new journal whose first
    /// record is `identity`.
    func open(after replay: Replay, identity: ScreenIdentity) throws {
        let fm = FileManager.default
        do {
            if replay.identity == nil {
                _ = fm.createFile(atPath: path, contents: nil)
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try handle!.truncate(atOffset: 0)
                try append(payload: Array(try JSONEncoder().encode(identity)))
                try AtomicFile.syncFile(URL(fileURLWithPath: path).deletingLastPathComponent().path)
            } else {
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try handle!.truncate(atOffset: UInt64(replay.validLength))
                try handle!.seekToEnd()
            }
        } catch let error as FileFormatError {
            throw error
        } catch {
            throw WriteError(path: path, problem: "cannot write the screen journal: \(OutputFile.reason(error))")
        }
    }

    /// Appends one finished image and makes it durable.
    func append(_ result: ScreenResult) throws {
        try append(payload: try result.encoded())
    }

    private func append(payload: [UInt8]) throws {
        guard let handle else { preconditionFailure("ResultsJournal: append before open") }
        var record = Self.magic
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { record += $0 }
        record += payload
        record += Self.digest(payload)
        do {
            // Half a record, then death: what the kill tests use to cut a write.
            if FaultPoint.fires("screen-journal-torn") {
                try handle.write(contentsOf: Data(record.prefix(record.count / 2)))
                try handle.synchronize()
                kill(getpid(), SIGKILL)
            }
            try handle.write(contentsOf: Data(record))
            try handle.synchronize()
        } catch {
            throw WriteError(path: path, problem: "cannot append to the screen journal: \(OutputFile.reason(error))")
        }
    }

    func close() { try? handle?.close(); handle = nil }

    /// Removes the journal once results.h5 holds everything it recorded.
    func remove() throws {
        close()
        if FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
            try AtomicFile.syncFile(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        }
    }

    static func digest(_ payload: [UInt8]) -> [UInt8] {
        var h = SHA256()
        payload.withUnsafeBytes { h.update($0) }
        let hex = Array(h.hexDigest().utf8)
        // 8 bytes from the first 16 hex digits.
        return (0..<8).map { i in UInt8(hexValue(hex[2 * i]) << 4 | hexValue(hex[2 * i + 1])) }
    }

    private static func hexValue(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
}
