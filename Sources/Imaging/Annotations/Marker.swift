/// One manual annotation point (Fiji Cell Counter marker or a CSV row).
public struct Marker: Codable, Equatable, Sendable {
    /// Column and row in pixels, origin top-left.
    public var x: Double
    public var y: Double
    /// The annotator's marker type (Cell Counter types 1...n).
    public var type: Int

    public init(x: Double, y: Double, type: Int) {
        self.x = x; self.y = y; self.type = type
    }
}

/// All markers for one image, and where they came from.
public struct AnnotationSet: Sendable {
    /// The image the annotation file names (Cell Counter's Image_Filename), if any.
    public var imageName: String?
    public var markers: [Marker]
    /// The annotation file, for messages.
    public var sourcePath: String

    public init(imageName: String?, markers: [Marker], sourcePath: String) {
        self.imageName = imageName; self.markers = markers; self.sourcePath = sourcePath
    }
}

/// Classes the classifier predicts (DESIGN: 0 other, 1 non-NETotic, 2 NETotic).
public enum NucleusClass: Int, Codable, CaseIterable, Sendable {
    case other = 0, nonNETotic = 1, netotic = 2

    public var name: String {
        switch self {
        case .other: return "other"
        case .nonNETotic: return "non-NETotic"
        case .netotic: return "NETotic"
        }
    }
}
