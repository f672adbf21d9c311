import CShims
import CTIFF
import Foundation

/// Owns an open libtiff handle; closes it when released. libtiff's error callbacks are routed
/// into a buffer (CShims) so failures carry libtiff's own words instead of going to stderr.
final class TIFFFile {
    let handle: OpaquePointer
    let path: String

    private static let captureMessages: Void = { cshims_tiff_capture_messages() }()

    init(path: String, mode: String) throws {
        _ = TIFFFile.captureMessages
        cshims_tiff_clear_error()
        guard let handle = TIFFOpen(path, mode) else {
            throw ImageError(path: path, problem: TIFFFile.openProblem(path: path, mode: mode))
        }
        self.handle = handle
        self.path = path
    }

    deinit { TIFFClose(handle) }

    /// The first message libtiff reported since the last clear.
    static func lastMessage() -> String {
        String(cString: cshims_tiff_last_error())
    }

    private static func openProblem(path: String, mode: String) -> String {
        var isDirectory: ObjCBool = false
        if mode == "r" {
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
            if isDirectory.boolValue { return "is a directory, expected a TIFF file" }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            if size < 8 { return "not a TIFF file (\(size) bytes, too short for a TIFF header)" }
            let message = lastMessage()
            if message.localizedCaseInsensitiveContains("magic") || message.localizedCaseInsensitiveContains("header") {
                return "not a TIFF file (no TIFF signature)"
            }
            return "cannot open as TIFF: \(message.isEmpty ? "unknown libtiff error" : message)"
        }
        return "cannot create TIFF: \(lastMessage().isEmpty ? String(cString: strerror(errno)) : lastMessage())"
    }

    /// Reads a tag libtiff says is present (or has a default for); nil if absent.
    func u16(_ tag: Int32, defaulted: Bool = true) -> UInt16? {
        var value: UInt16 = 0
        let ok = defaulted ? cshims_tiff_get_defaulted_u16(handle, UInt32(tag), &value)
                           : cshims_tiff_get_u16(handle, UInt32(tag), &value)
        return ok == 1 ? value : nil
    }

    func u32(_ tag: Int32) -> UInt32? {
        var value: UInt32 = 0
        return cshims_tiff_get_u32(handle, UInt32(tag), &value) == 1 ? value : nil
    }

    func set(_ tag: Int32, u16 value: UInt16) throws {
        guard cshims_tiff_set_u16(handle, UInt32(tag), value) == 1 else { throw failure("set tag \(tag)") }
    }
    func set(_ tag: Int32, u32 value: UInt32) throws {
        guard cshims_tiff_set_u32(handle, UInt32(tag), value) == 1 else { throw failure("set tag \(tag)") }
    }
    func set(_ tag: Int32, string value: String) throws {
        guard cshims_tiff_set_str(handle, UInt32(tag), value) == 1 else { throw failure("set tag \(tag)") }
    }

    /// An ImageError carrying what libtiff said, e.g. for a truncated strip.
    func failure(_ what: String) -> ImageError {
        let message = TIFFFile.lastMessage()
        return ImageError(path: path, problem: message.isEmpty ? what : "\(what): \(message)")
    }
}
