import CHDF5
import Foundation

/// An N-d array in a file. Reads convert to the requested element type (HDF5 converts
/// e.g. stored uint16 to Float); hyperslab reads load only the selected block.
public final class HDF5Dataset: HDF5Node {
    public let handle: HDF5Handle
    public let filePath: String
    public let objectPath: String

    init(handle: HDF5Handle, filePath: String, objectPath: String) {
        self.handle = handle; self.filePath = filePath; self.objectPath = objectPath
    }

    /// Current dimensions.
    public func shape() throws -> [Int] {
        try fileSpace().extent(path: location)
    }

    /// Number of elements.
    public func count() throws -> Int { try shape().reduce(1, *) }

    /// Chunk dimensions, or nil if contiguous.
    public func chunkShape() throws -> [Int]? {
        let plist = try HDF5Handle.propertyList(H5Dget_create_plist(handle.id), path: location, "H5Dget_create_plist")
        guard H5Pget_layout(plist.id) == H5D_CHUNKED else { return nil }
        var dims = [hsize_t](repeating: 0, count: 32)
        let rank = try h5check(H5Pget_chunk(plist.id, 32, &dims), location, "H5Pget_chunk")
        return dims.prefix(Int(rank)).map { Int($0) }
    }

    /// Names of the filters in the pipeline ("shuffle", "deflate", "fletcher32", ...).
    public func filters() throws -> [String] {
        let plist = try HDF5Handle.propertyList(H5Dget_create_plist(handle.id), path: location, "H5Dget_create_plist")
        let n = try h5check(H5Pget_nfilters(plist.id), location, "H5Pget_nfilters")
        return (0..<n).map { i in
            var flags: UInt32 = 0, nValues = 0, config: UInt32 = 0
            var name = [CChar](repeating: 0, count: 64)
            _ = H5Pget_filter2(plist.id, UInt32(i), &flags, &nValues, nil, name.count, &name, &config)
            return String(cString: name)
        }
    }

    private func fileSpace() throws -> HDF5Handle {
        try HDF5Handle.dataspace(H5Dget_space(handle.id), path: location, "H5Dget_space")
    }

    /// File and memory dataspaces for a block (`offset`, `count`), checked against the extent.
    private func selection(offset: [Int], count: [Int]) throws -> (file: HDF5Handle, memory: HDF5Handle) {
        let file = try fileSpace()
        let extent = try file.extent(path: location)
        guard offset.count == extent.count, count.count == extent.count,
              zip(zip(offset, count), extent).allSatisfy({ $0.0 >= 0 && $0.1 >= 0 && $0.0 + $0.1 <= $1 }) else {
            throw HDF5Error(path: location, operation: "select block offset \(offset) count \(count)",
                            detail: "outside the dataset's shape \(extent)")
        }
        var start = offset.map { hsize_t($0) }
        var size = count.map { hsize_t($0) }
        _ = try h5check(H5Sselect_hyperslab(file.id, H5S_SELECT_SET, &start, nil, &size, nil), location,
                        "H5Sselect_hyperslab")
        let memory = try HDF5Handle.simpleSpace(count, path: location)
        return (file, memory)
    }

    private func requireCount(_ actual: Int, _ shape: [Int], _ what: String) throws {
        let expected = shape.reduce(1, *)
        guard actual == expected else {
            throw HDF5Error(path: location, operation: what,
                            detail: "\(actual) values given for a block of shape \(shape) (\(expected) values)")
        }
    }

    // MARK: numeric read/write

    /// Reads the whole dataset, row-major.
    public func read<T: HDF5Scalar>(as: T.Type = T.self) throws -> [T] {
        let shape = try shape()
        return try read(offset: shape.map { _ in 0 }, count: shape)
    }

    /// Reads one block (hyperslab), e.g. patch i of N: offset [i,0,0], count [1,H,W].
    public func read<T: HDF5Scalar>(offset: [Int], count: [Int], as: T.Type = T.self) throws -> [T] {
        let n = count.reduce(1, *)
        var values = [T](unsafeUninitializedCapacity: n) { _, c in c = n }
        try values.withUnsafeMutableBufferPointer { try read(into: $0, offset: offset, count: count) }
        return values
    }

    /// Reads one block into caller-owned memory (no allocation: the batch loader uses this).
    public func read<T: HDF5Scalar>(into buffer: UnsafeMutableBufferPointer<T>, offset: [Int], count: [Int]) throws {
        try requireCount(buffer.count, count, "read")
        guard buffer.count > 0 else { return }
        let (file, memory) = try selection(offset: offset, count: count)
        _ = try h5check(H5Dread(handle.id, T.hdf5Type, memory.id, file.id, chdf5_p_default(), buffer.baseAddress),
                        location, "read \(count) at \(offset)")
    }

    /// Overwrites the whole dataset.
    public func write<T: HDF5Scalar>(_ values: [T]) throws {
        let shape = try shape()
        try write(values, offset: shape.map { _ in 0 }, count: shape)
    }

    /// Overwrites one block.
    public func write<T: HDF5Scalar>(_ values: [T], offset: [Int], count: [Int]) throws {
        try requireCount(values.count, count, "write")
        guard !values.isEmpty else { return }
        let (file, memory) = try selection(offset: offset, count: count)
        _ = try values.withUnsafeBytes {
            try h5check(H5Dwrite(handle.id, T.hdf5Type, memory.id, file.id, chdf5_p_default(), $0.baseAddress),
                        location, "write \(count) at \(offset)")
        }
    }

    /// Appends rows along axis 0 (the dataset must have been created appendable).
    /// `values.count` must be a whole number of rows.
    public func append<T: HDF5Scalar>(_ values: [T]) throws {
        let (offset, count) = try grow(by: values.count)
        try write(values, offset: offset, count: count)
    }

    /// Extends axis 0 to hold `elementCount` more values; returns the block to write.
    private func grow(by elementCount: Int) throws -> (offset: [Int], count: [Int]) {
        var shape = try shape()
        let rowSize = shape.dropFirst().reduce(1, *)
        guard rowSize > 0, elementCount % rowSize == 0 else {
            throw HDF5Error(path: location, operation: "append",
                            detail: "\(elementCount) values is not a whole number of rows of \(shape.dropFirst())")
        }
        let rows = elementCount / rowSize
        let offset = [shape[0]] + shape.dropFirst().map { _ in 0 }
        shape[0] += rows
        var dims = shape.map { hsize_t($0) }
        _ = try h5check(H5Dset_extent(handle.id, &dims), location,
                        "extend to \(shape) (was the dataset created with an unlimited first axis?)")
        return (offset, [rows] + shape.dropFirst())
    }

    // MARK: strings

    /// Reads a 1-D string dataset (variable- or fixed-length, UTF-8 or ASCII).
    public func readStrings() throws -> [String] {
        let n = try count()
        guard n > 0 else { return [] }
        let stored = try HDF5Handle.datatype(H5Dget_type(handle.id), path: location, "H5Dget_type")
        guard H5Tget_class(stored.id) == H5T_STRING else {
            throw HDF5Error(path: location, operation: "read strings", detail: "dataset does not hold strings")
        }
        if H5Tis_variable_str(stored.id) > 0 {
            let type = try HDF5Strings.variableType(path: location)
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            _ = try h5check(H5Dread(handle.id, type.id, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &pointers),
                            location, "read strings")
            defer { pointers.forEach { free($0) } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let width = H5Tget_size(stored.id)
        var bytes = [UInt8](repeating: 0, count: n * width)
        _ = try h5check(H5Dread(handle.id, stored.id, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &bytes),
                        location, "read strings")
        return (0..<n).map { i in
            String(decoding: bytes[i * width..<(i + 1) * width].prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Overwrites a 1-D variable-length string dataset.
    public func writeStrings(_ values: [String], offset: Int = 0) throws {
        guard !values.isEmpty else { return }
        let (file, memory) = try selection(offset: [offset], count: [values.count])
        let type = try HDF5Strings.variableType(path: location)
        _ = try HDF5Strings.withCStrings(values) {
            try h5check(H5Dwrite(handle.id, type.id, memory.id, file.id, chdf5_p_default(), $0), location, "write strings")
        }
    }

    /// Appends strings to an appendable 1-D string dataset.
    public func appendStrings(_ values: [String]) throws {
        let (offset, _) = try grow(by: values.count)
        try writeStrings(values, offset: offset[0])
    }
}
