import CHDF5
import Foundation

/// Storage layout of a new dataset. Chunked layouts allow compression and appending.
public struct DatasetOptions: Sendable {
    /// Chunk shape; nil = contiguous (no compression, no appending).
    public var chunk: [Int]?
    /// Maximum shape; a nil entry makes that axis unlimited (appendable). nil = fixed.
    public var maxShape: [Int?]?
    /// Deflate (gzip) level 1...9; nil = none.
    public var deflate: Int?
    /// Byte-shuffle before compressing (helps integer images a lot).
    public var shuffle: Bool
    /// Fletcher-32 checksum per chunk: a corrupted chunk fails to read instead of returning garbage.
    public var checksum: Bool

    public init(chunk: [Int]? = nil, maxShape: [Int?]? = nil, deflate: Int? = nil,
                shuffle: Bool = false, checksum: Bool = false) {
        self.chunk = chunk; self.maxShape = maxShape; self.deflate = deflate
        self.shuffle = shuffle; self.checksum = checksum
    }

    public static let contiguous = DatasetOptions()

    /// A table column or stack of records: unlimited along axis 0, chunked, compressed.
    public static func appendable(rowShape: [Int] = [], chunkRows: Int = 1024, deflate: Int? = 4) -> DatasetOptions {
        DatasetOptions(chunk: [chunkRows] + rowShape, maxShape: [nil] + rowShape.map { $0 },
                       deflate: deflate, shuffle: deflate != nil)
    }
}

/// A group (folder) inside an HDF5 file.
public class HDF5Group: HDF5Node {
    public let handle: HDF5Handle
    public let filePath: String
    public let objectPath: String

    init(handle: HDF5Handle, filePath: String, objectPath: String) {
        self.handle = handle; self.filePath = filePath; self.objectPath = objectPath
    }

    /// True if `path` (relative or absolute, any depth) names an existing object.
    public func exists(_ path: String) -> Bool {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            guard H5Lexists(handle.id, prefix, chdf5_p_default()) > 0 else { return false }
        }
        return true
    }

    /// Names of the direct children (groups and datasets), sorted.
    public func children() throws -> [String] {
        final class Names { var list: [String] = [] }
        let names = Names()
        var index: hsize_t = 0
        _ = try h5check(H5Literate(handle.id, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, context in
            if let name, let context {
                Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append(String(cString: name))
            }
            return 0
        }, Unmanaged.passUnretained(names).toOpaque()), location, "list children")
        return names.list.sorted()
    }

    /// Creates a group; intermediate groups are created as needed.
    @discardableResult
    public func createGroup(_ name: String) throws -> HDF5Group {
        let lcpl = try linkCreationCreatingParents()
        let id = try HDF5Handle.make(H5Gcreate2(handle.id, name, lcpl.id, chdf5_p_default(), chdf5_p_default()),
                                     path: location, "create group '\(name)'", close: H5Gclose)
        return HDF5Group(handle: id, filePath: filePath, objectPath: childPath(name))
    }

    public func group(_ name: String) throws -> HDF5Group {
        try requireExists(name, "open group")
        let id = try HDF5Handle.make(H5Gopen2(handle.id, name, chdf5_p_default()), path: location,
                                     "open group '\(name)'", close: H5Gclose)
        return HDF5Group(handle: id, filePath: filePath, objectPath: childPath(name))
    }

    /// Opens the group if it exists, creates it otherwise.
    public func requireGroup(_ name: String) throws -> HDF5Group {
        exists(name) ? try group(name) : try createGroup(name)
    }

    public func delete(_ name: String) throws {
        _ = try h5check(H5Ldelete(handle.id, name, chdf5_p_default()), location, "delete '\(name)'")
    }

    /// Link-creation properties that create missing intermediate groups ("a/b/c" in one call).
    private func linkCreationCreatingParents() throws -> HDF5Handle {
        let lcpl = try HDF5Handle.propertyList(H5Pcreate(chdf5_p_link_create()), path: location, "H5Pcreate")
        _ = try h5check(H5Pset_create_intermediate_group(lcpl.id, 1), location, "H5Pset_create_intermediate_group")
        return lcpl
    }

    func requireExists(_ name: String, _ what: String) throws {
        guard exists(name) else {
            throw HDF5Error(path: location, operation: "\(what) '\(name)'", detail: "no such object")
        }
    }

    // MARK: datasets

    /// Creates an empty numeric dataset.
    @discardableResult
    public func createDataset<T: HDF5Scalar>(_ name: String, of: T.Type, shape: [Int],
                                             options: DatasetOptions = .contiguous) throws -> HDF5Dataset {
        try createDataset(name, type: T.hdf5Type, shape: shape, options: options)
    }

    /// Creates an empty variable-length UTF-8 string dataset.
    @discardableResult
    public func createStringDataset(_ name: String, shape: [Int],
                                    options: DatasetOptions = .contiguous) throws -> HDF5Dataset {
        let type = try HDF5Strings.variableType(path: location)
        return try createDataset(name, type: type.id, shape: shape, options: options)
    }

    private func createDataset(_ name: String, type: hid_t, shape: [Int], options: DatasetOptions) throws -> HDF5Dataset {
        let space = try HDF5Handle.simpleSpace(shape, maxShape: options.maxShape, path: location)
        let dcpl = try HDF5Handle.propertyList(H5Pcreate(chdf5_p_dataset_create()), path: location, "H5Pcreate")
        if let chunk = options.chunk {
            var dims = chunk.map { hsize_t(max(1, $0)) }
            _ = try h5check(H5Pset_chunk(dcpl.id, Int32(dims.count), &dims), location, "set chunk of '\(name)'")
            if options.checksum { _ = try h5check(H5Pset_fletcher32(dcpl.id), location, "H5Pset_fletcher32") }
            if options.shuffle { _ = try h5check(H5Pset_shuffle(dcpl.id), location, "H5Pset_shuffle") }
            if let level = options.deflate {
                _ = try h5check(H5Pset_deflate(dcpl.id, UInt32(level)), location, "H5Pset_deflate")
            }
        }
        let lcpl = try linkCreationCreatingParents()
        let id = try HDF5Handle.make(H5Dcreate2(handle.id, name, type, space.id, lcpl.id, dcpl.id, chdf5_p_default()),
                                     path: location, "create dataset '\(name)'", close: H5Dclose)
        return HDF5Dataset(handle: id, filePath: filePath, objectPath: childPath(name))
    }

    /// Opens an existing dataset.
    public func dataset(_ name: String) throws -> HDF5Dataset {
        try requireExists(name, "open dataset")
        let id = try HDF5Handle.make(H5Dopen2(handle.id, name, chdf5_p_default()), path: location,
                                     "open dataset '\(name)'", close: H5Dclose)
        return HDF5Dataset(handle: id, filePath: filePath, objectPath: childPath(name))
    }

    /// Creates a dataset and writes `values` (row-major, `shape` defaults to 1-D).
    @discardableResult
    public func write<T: HDF5Scalar>(_ name: String, _ values: [T], shape: [Int]? = nil,
                                     options: DatasetOptions = .contiguous) throws -> HDF5Dataset {
        let shape = shape ?? [values.count]
        let dataset = try createDataset(name, of: T.self, shape: shape, options: options)
        try dataset.write(values)
        return dataset
    }

    /// Creates a 1-D string dataset holding `values`.
    @discardableResult
    public func writeStrings(_ name: String, _ values: [String],
                             options: DatasetOptions = .contiguous) throws -> HDF5Dataset {
        let dataset = try createStringDataset(name, shape: [values.count], options: options)
        try dataset.writeStrings(values)
        return dataset
    }

    /// Reads a whole numeric dataset.
    public func read<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws -> [T] {
        try dataset(name).read()
    }
}
