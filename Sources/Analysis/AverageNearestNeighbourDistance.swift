/// The paper's clustering measure, ANND: the mean over points of the Euclidean distance to the
/// nearest other point. Small for clustered points, large for evenly spread ones — and, for a
/// given pattern, proportional to 1/√density, which is why comparisons are matched on counts.
public enum AverageNearestNeighbourDistance {
    /// Throws for fewer than two points or a non-finite coordinate.
    public static func of(_ points: [PlanePoint]) throws -> Double {
        let distances = try NearestNeighbours.distances(points)
        return distances.reduce(0, +) / Double(distances.count)
    }
}
