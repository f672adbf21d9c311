/// A point in an image's plane, in pixels (x to the right, y down): a nucleus centre.
public struct PlanePoint: Equatable, Hashable, Codable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    public var isFinite: Bool { x.isFinite && y.isFinite }

    /// Euclidean distance, √(dx² + dy²) as scipy's cKDTree forms it (no hypot rescaling).
    public func distance(to other: PlanePoint) -> Double {
        let dx = x - other.x, dy = y - other.y
        return (dx * dx + dy * dy).squareRoot()
    }
}
