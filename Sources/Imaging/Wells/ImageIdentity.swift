/// How images are grouped so that no group straddles two splits.
public enum SplitBy: String, Codable, Sendable, CaseIterable {
    /// Every image is its own group (patches of one image never straddle splits).
    case image
    /// All images of one well (plate + well) share a split.
    case well
    /// All images of one experiment group (e.g. `21b`, a plate or donor run) share a split.
    case experiment
}

/// Where an image came from, as parsed from its name (stored in `/images/*`).
public struct ImageIdentity: Codable, Equatable, Sendable {
    public var name: String
    public var plate: String
    public var well: String
    public var field: String
    /// Experiment group used by `--split-by experiment`.
    public var group: String

    public init(name: String, plate: String, well: String, field: String, group: String) {
        self.name = name; self.plate = plate; self.well = well; self.field = field; self.group = group
    }

    /// The leakage unit this image belongs to.
    public func splitKey(_ by: SplitBy) -> String {
        switch by {
        case .image: return "image:" + name
        case .well: return "well:" + group + "/" + plate + "/" + well.uppercased()
        case .experiment: return "experiment:" + group
        }
    }
}
