/// One segmented object (a nucleus, or debris the classifier will call "other").
/// Coordinates are pixels, origin top-left, x = column, y = row.
public struct Nucleus: Codable, Equatable, Sendable {
    /// Label in the segmentation's label image (1-based; 0 is background).
    public var label: Int
    public var centroidX: Double
    public var centroidY: Double
    /// Inclusive bounding box.
    public var minX: Int, minY: Int, maxX: Int, maxY: Int
    /// Pixel count.
    public var area: Int
    public var meanIntensity: Double
    public var maxIntensity: Double
    /// Area / convex-hull area (1 for convex shapes; lobed nuclei are lower).
    public var solidity: Double
    /// Eccentricity of the moment-equivalent ellipse (0 circle … 1 line).
    public var eccentricity: Double

    public init(label: Int, centroidX: Double, centroidY: Double, minX: Int, minY: Int, maxX: Int, maxY: Int,
                area: Int, meanIntensity: Double, maxIntensity: Double, solidity: Double, eccentricity: Double) {
        self.label = label; self.centroidX = centroidX; self.centroidY = centroidY
        self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
        self.area = area; self.meanIntensity = meanIntensity; self.maxIntensity = maxIntensity
        self.solidity = solidity; self.eccentricity = eccentricity
    }
}

/// The result of segmenting one image: the objects and the label image they came from.
public struct Segmentation: Sendable {
    public var width: Int
    public var height: Int
    /// Row-major label image: 0 background, k = nuclei[k-1] (labels are 1...nuclei.count).
    public var labels: [Int32]
    public var nuclei: [Nucleus]

    public init(width: Int, height: Int, labels: [Int32], nuclei: [Nucleus]) {
        self.width = width; self.height = height; self.labels = labels; self.nuclei = nuclei
    }
}
