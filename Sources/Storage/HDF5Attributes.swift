import CHDF5
import Foundation

/// Attributes: small named values on a file, group or dataset (format tags, JSON configs, metadata).
extension HDF5Node {
    public func hasAttribute(_ name: String) -> Bool {
        H5Aexists(handle.id, name) > 0
    }

    public func attributeNames() throws -> [String] {
        var info = H5O_info_t()
        _ = try h5check(H5Oget_info2(handle.id, &info, UInt32(H5O_INFO_NUM_ATTRS)), location, "H5Oget_info")
        return try (0..<Int(info.num_attrs)).map { i in
            let attr = try HDF5Handle.make(
                H5Aopen_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), chdf5_p_default(), chdf5_p_default()),
                path: location, "H5Aopen_by_idx", close: H5Aclose)
            let n = try h5check(H5Aget_name(attr.id, 0, nil), location, "H5Aget_name")
            var buffer = [CChar](repeating: 0, count: Int(n) + 1)
            _ = H5Aget_name(attr.id, buffer.count, &buffer)
            return String(cString: buffer)
        }
    }

    /// Writes (or replaces) a UTF-8 string attribute.
    public func setAttribute(_ name: String, _ value: String) throws {
        let bytes = Array(value.utf8)
        let type = try HDF5Handle.datatype(H5Tcopy(chdf5_c_s1()), path: location, "H5Tcopy")
        _ = try h5check(H5Tset_size(type.id, max(1, bytes.count)), location, "H5Tset_size")
        _ = try h5check(H5Tset_strpad(type.id, H5T_STR_NULLPAD), location, "H5Tset_strpad")
        _ = try h5check(H5Tset_cset(type.id, H5T_CSET_UTF8), location, "H5Tset_cset")
        let space = try HDF5Handle.dataspace(H5Screate(H5S_SCALAR), path: location, "H5Screate")
        let padded = bytes.isEmpty ? [UInt8(0)] : bytes
        try writeAttribute(name, type: type.id, space: space.id, bytes: padded)
    }

    /// Writes (or replaces) a numeric scalar attribute.
    public func setAttribute<T: HDF5Scalar>(_ name: String, _ value: T) throws {
        let space = try HDF5Handle.dataspace(H5Screate(H5S_SCALAR), path: location, "H5Screate")
        try withUnsafeBytes(of: value) { try writeAttribute(name, type: T.hdf5Type, space: space.id, raw: $0) }
    }

    /// Writes (or replaces) a 1-D numeric attribute.
    public func setAttribute<T: HDF5Scalar>(_ name: String, _ values: [T]) throws {
        let space = try HDF5Handle.simpleSpace([values.count], path: location)
        try values.withUnsafeBytes { try writeAttribute(name, type: T.hdf5Type, space: space.id, raw: $0) }
    }

    /// Removes an attribute (no-op when absent).
    public func deleteAttribute(_ name: String) throws {
        guard hasAttribute(name) else { return }
        _ = try h5check(H5Adelete(handle.id, name), location, "delete attribute '\(name)'")
    }

    private func writeAttribute(_ name: String, type: hid_t, space: hid_t, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAttribute(name, type: type, space: space, raw: $0) }
    }

    private func writeAttribute(_ name: String, type: hid_t, space: hid_t, raw: UnsafeRawBufferPointer) throws {
        if hasAttribute(name) {
            _ = try h5check(H5Adelete(handle.id, name), location, "replace attribute '\(name)'")
        }
        let attr = try HDF5Handle.make(H5Acreate2(handle.id, name, type, space, chdf5_p_default(), chdf5_p_default()),
                                       path: location, "create attribute '\(name)'", close: H5Aclose)
        _ = try h5check(H5Awrite(attr.id, type, raw.baseAddress), location, "write attribute '\(name)'")
    }

    private func openAttribute(_ name: String) throws -> HDF5Handle {
        guard hasAttribute(name) else {
            throw HDF5Error(path: location, operation: "read attribute '\(name)'", detail: "no such attribute")
        }
        return try HDF5Handle.make(H5Aopen(handle.id, name, chdf5_p_default()), path: location,
                                   "open attribute '\(name)'", close: H5Aclose)
    }

    /// Reads a string attribute, fixed- or variable-length (as h5py writes them).
    public func stringAttribute(_ name: String) throws -> String {
        let attr = try openAttribute(name)
        let type = try HDF5Handle.datatype(H5Aget_type(attr.id), path: location, "H5Aget_type")
        guard H5Tget_class(type.id) == H5T_STRING else {
            throw HDF5Error(path: location, operation: "read attribute '\(name)'", detail: "not a string")
        }
        if H5Tis_variable_str(type.id) > 0 {
            let memType = try HDF5Strings.variableType(path: location)
            var pointer: UnsafeMutablePointer<CChar>? = nil
            _ = try h5check(H5Aread(attr.id, memType.id, &pointer), location, "read attribute '\(name)'")
            defer { free(pointer) }
            return pointer.map { String(cString: $0) } ?? ""
        }
        let size = H5Tget_size(type.id)
        var buffer = [UInt8](repeating: 0, count: size + 1)
        _ = try h5check(H5Aread(attr.id, type.id, &buffer), location, "read attribute '\(name)'")
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Reads a numeric attribute (scalar or 1-D) converted to T.
    public func attributeArray<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws -> [T] {
        let attr = try openAttribute(name)
        let space = try HDF5Handle.dataspace(H5Aget_space(attr.id), path: location, "H5Aget_space")
        let n = Int(try h5check(H5Sget_simple_extent_npoints(space.id), location, "H5Sget_simple_extent_npoints"))
        var values = [T](unsafeUninitializedCapacity: n) { _, c in c = n }
        _ = try values.withUnsafeMutableBytes {
            try h5check(H5Aread(attr.id, T.hdf5Type, $0.baseAddress), location, "read attribute '\(name)'")
        }
        return values
    }

    public func attribute<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws -> T {
        let values: [T] = try attributeArray(name)
        guard let first = values.first else {
            throw HDF5Error(path: location, operation: "read attribute '\(name)'", detail: "empty")
        }
        return first
    }
}
