import Foundation
import Storage

/// Names and constants of the patches.h5 contract (DESIGN "File contracts"; docs/file-formats.md).
public enum PatchesSchema {
    /// Version 1: the DESIGN schema. Version 2 adds the `runs` attribute (every run's settings),
    /// 3 the per-image statistics, 4 the channel axis ([N, H, W, C] with `channels` names, non-square
    /// tiles, `/images/fields`, `task`); all additive, so version 1 is still read (docs/file-formats.md).
    public static let format = FileFormat(name: "netosis.patches", version: 4, oldestReadable: 1, madeBy: "netosis prepare` or `netosis tiles")
    public static let patches = "patches", labels = "labels", split = "split"
    public static let imageIndex = "image_index", center = "center"
    public static let images = "images"
    public static let imageFields = ["name", "plate", "well", "field", "group"]
    /// Class names in label order (0 other, 1 non-NETotic, 2 NETotic).
    public static var classNames: [String] { NucleusClass.allCases.map(\.name) }

    /// The file's `classes` attribute (a JSON list), or the nucleus classes when it has none.
    static func classNames(of file: HDF5File) throws -> [String] {
        if file.hasAttribute("classes"), let data = try file.stringAttribute("classes").data(using: .utf8),
           let decoded = try? JSONDecoder().decode([String].self, from: data) {
            return decoded
        }
        return classNames
    }
}

/// Which part of the data a patch belongs to (`/split`: 0 train, 1 val, 2 test).
public enum PatchSplit: UInt8, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case train = 0, val = 1, test = 2

    public var description: String {
        switch self { case .train: return "train"; case .val: return "val"; case .test: return "test" }
    }

    public init?(name: String) {
        switch name.lowercased() {
        case "train": self = .train
        case "val", "validation": self = .val
        case "test": self = .test
        default: return nil
        }
    }
}
