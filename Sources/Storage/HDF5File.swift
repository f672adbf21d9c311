import CHDF5
import Foundation

/// An open HDF5 file; also its root group ("/").
public final class HDF5File: HDF5Group {
    public enum Mode: Sendable { case readOnly, readWrite }

    /// Creates a new file, replacing any existing one unless `overwrite` is false.
    public static func create(_ path: String, overwrite: Bool = true) throws -> HDF5File {
        _ = HDF5Library.silenced
        let flags = overwrite ? chdf5_f_acc_trunc() : chdf5_f_acc_excl()
        let id = try HDF5Handle.make(H5Fcreate(path, flags, chdf5_p_default(), chdf5_p_default()),
                                     path: path, "create HDF5 file", close: H5Fclose)
        return HDF5File(handle: id, filePath: path, objectPath: "/")
    }

    /// Opens an existing file. Missing files and files that are not HDF5 get a plain message.
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
        _ = HDF5Library.silenced
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw HDF5Error(path: path, operation: "open", detail: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw HDF5Error(path: path, operation: "open", detail: "is a directory, expected an HDF5 file")
        }
        guard access(path, R_OK) == 0 else {
            throw HDF5Error(path: path, operation: "open", detail: FileProblem.posix(errno))
        }
        guard H5Fis_hdf5(path) > 0 else {
            _ = HDF5Library.currentStackText()  // drop whatever the probe left on the stack
            throw HDF5Error(path: path, operation: "open", detail: "not an HDF5 file (no HDF5 signature)")
        }
        let flags = mode == .readOnly ? chdf5_f_acc_rdonly() : chdf5_f_acc_rdwr()
        let raw = H5Fopen(path, flags, chdf5_p_default())
        guard raw >= 0 else {
            throw HDF5Error(path: path, operation: "open", detail: damage(HDF5Library.currentStackText()))
        }
        let id = try HDF5Handle.make(raw, path: path, "open HDF5 file", close: H5Fclose)
        return HDF5File(handle: id, filePath: path, objectPath: "/")
    }

    /// What a failed open means for the user: HDF5's "truncated file: eof = 20000, …, stored_eof =
    /// 341120" becomes the byte counts and what to do; other damage keeps HDF5's words.
    static func damage(_ stack: String) -> String {
        let numbers = { (key: String) -> String? in
            guard let r = stack.range(of: key + " = ") else { return nil }
            return String(stack[r.upperBound...].prefix(while: \.isNumber))
        }
        if stack.contains("truncated file"), let have = numbers("eof"), let want = numbers("stored_eof") {
            return "truncated (\(have) of \(want) bytes): the file is incomplete; copy or write it again"
        }
        return "damaged (\(stack.isEmpty ? "HDF5 cannot read it" : stack))"
    }

    /// True if the file exists and carries the HDF5 signature.
    public static func isHDF5(_ path: String) -> Bool {
        _ = HDF5Library.silenced
        guard FileManager.default.fileExists(atPath: path) else { return false }
        let answer = H5Fis_hdf5(path) > 0
        _ = HDF5Library.currentStackText()
        return answer
    }

    /// Flushes and closes the file, checking both; writers call it last so that a full disk or an
    /// I/O error is an error, not a silently incomplete file. Objects still open keep their own
    /// handles (HDF5 finishes closing when they are released).
    public func close() throws {
        try flush()
        try handle.closeChecked(path: filePath, "close")
    }

    /// Pushes buffered data to the operating system (not a durability guarantee: see AtomicFile).
    /// Writers call it last: a full disk shows here as an error instead of in a silent close.
    public func flush() throws {
        _ = try h5check(H5Fflush(handle.id, H5F_SCOPE_GLOBAL), filePath, "flush")
    }
}
