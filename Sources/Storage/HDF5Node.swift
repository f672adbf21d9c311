import CHDF5

/// Anything with a path inside an HDF5 file: the file itself, groups and datasets.
/// Attributes (see HDF5Attributes.swift) work on all of them the same way.
public protocol HDF5Node: AnyObject {
    var handle: HDF5Handle { get }
    /// Path of the file on disk, for error messages.
    var filePath: String { get }
    /// Path of this object inside the file ("/" for the root).
    var objectPath: String { get }
}

extension HDF5Node {
    /// "file.h5:/group/dataset" — what error messages name.
    var location: String { objectPath == "/" ? filePath : "\(filePath):\(objectPath)" }

    func childPath(_ name: String) -> String {
        name.hasPrefix("/") ? name : (objectPath == "/" ? "/\(name)" : "\(objectPath)/\(name)")
    }
}
