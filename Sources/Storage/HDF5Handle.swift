import CHDF5

/// Owns one HDF5 identifier and closes it with the matching H5?close when released.
/// Every file, group, dataset, dataspace, type and property list goes through this.
/// Public only as an opaque type: its id and close function stay inside Storage.
public final class HDF5Handle {
    let id: hid_t
    private let close: (hid_t) -> herr_t

    init(_ id: hid_t, close: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.close = close
    }

    private var closed = false

    deinit { if !closed { _ = close(id) } }

    /// Closes now and checks the result (writers: a failure here means the file is not complete).
    func closeChecked(path: String, _ operation: String) throws {
        guard !closed else { return }
        closed = true
        _ = try h5check(close(id), path, operation)
    }

    /// Checks a freshly returned id and wraps it, so no code path forgets to close it.
    static func make(_ id: hid_t, path: String, _ operation: @autoclosure () -> String,
                     close: @escaping (hid_t) -> herr_t) throws -> HDF5Handle {
        HDF5Handle(try h5check(id, path, operation()), close: close)
    }

    static func dataspace(_ id: hid_t, path: String, _ op: @autoclosure () -> String) throws -> HDF5Handle {
        try make(id, path: path, op(), close: H5Sclose)
    }
    static func propertyList(_ id: hid_t, path: String, _ op: @autoclosure () -> String) throws -> HDF5Handle {
        try make(id, path: path, op(), close: H5Pclose)
    }
    static func datatype(_ id: hid_t, path: String, _ op: @autoclosure () -> String) throws -> HDF5Handle {
        try make(id, path: path, op(), close: H5Tclose)
    }
}

extension HDF5Handle {
    /// A simple dataspace of the given shape (maxShape nil entries = unlimited).
    static func simpleSpace(_ shape: [Int], maxShape: [Int?]? = nil, path: String) throws -> HDF5Handle {
        var dims = shape.map { hsize_t($0) }
        if let maxShape {
            var maxDims = maxShape.map { $0.map { hsize_t($0) } ?? chdf5_s_unlimited() }
            return try dataspace(H5Screate_simple(Int32(dims.count), &dims, &maxDims), path: path, "H5Screate_simple")
        }
        return try dataspace(H5Screate_simple(Int32(dims.count), &dims, nil), path: path, "H5Screate_simple")
    }

    /// Current dimensions of a dataspace.
    func extent(path: String) throws -> [Int] {
        let rank = try h5check(H5Sget_simple_extent_ndims(id), path, "H5Sget_simple_extent_ndims")
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        _ = try h5check(H5Sget_simple_extent_dims(id, &dims, nil), path, "H5Sget_simple_extent_dims")
        return dims.map { Int($0) }
    }
}
