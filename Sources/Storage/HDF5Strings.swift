import CHDF5
import Foundation

/// Variable-length UTF-8 strings: the memory type we read and write string datasets with.
enum HDF5Strings {
    static func variableType(path: String) throws -> HDF5Handle {
        let type = try HDF5Handle.datatype(H5Tcopy(chdf5_c_s1()), path: path, "H5Tcopy")
        _ = try h5check(H5Tset_size(type.id, chdf5_variable()), path, "H5Tset_size")
        _ = try h5check(H5Tset_cset(type.id, H5T_CSET_UTF8), path, "H5Tset_cset")
        return type
    }

    /// Calls body with a C array of NUL-terminated UTF-8 strings, valid only inside body.
    static func withCStrings<R>(_ strings: [String], _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return try pointers.withUnsafeBytes { try body($0.baseAddress!) }
    }
}
