/// Exact nearest neighbours among points of the plane, through a 2-d tree: built in
/// O(n log² n), a query visits O(log n) nodes on spread-out data, so the nearest-neighbour
/// distances of a well (thousands of nuclei) cost milliseconds instead of n² distance pairs.
///
/// The tree is implicit: a subrange lo..<hi of the tree order has its node at mid = (lo + hi)/2,
/// the left subtree lo..<mid and the right mid + 1..<hi. Each node splits on the axis along which
/// its subrange is wider, which keeps clustered and collinear sets shallow.
public struct NearestNeighbours: Sendable {
    public let points: [PlanePoint]
    /// Tree order: the original index, coordinates and split axis (x or not) of each node.
    private let index: [Int]
    /// The inverse of `index`: the node of each original point.
    private let node: [Int]
    private let xs: [Double], ys: [Double]
    private let splitsOnX: [Bool]

    /// Throws when a coordinate is not finite.
    public init(_ points: [PlanePoint]) throws {
        guard points.allSatisfy(\.isFinite) else {
            throw StatisticsError("nearest neighbours: a point has a non-finite coordinate")
        }
        self.points = points
        var order = Array(points.indices)
        var splits = [Bool](repeating: true, count: points.count)
        NearestNeighbours.build(&order, &splits, points, 0, points.count)
        index = order
        var inverse = [Int](repeating: 0, count: points.count)
        for (n, i) in order.enumerated() { inverse[i] = n }
        node = inverse
        xs = order.map { points[$0].x }
        ys = order.map { points[$0].y }
        splitsOnX = splits
    }

    /// The point nearest to `query` (the smallest index among equally near ones is not promised),
    /// leaving out the point at index `excluding`; nil when no other point is left.
    public func nearest(to query: PlanePoint, excluding: Int? = nil) -> (index: Int, distance: Double)? {
        var best = (node: -1, squared: Double.infinity)
        let skip = excluding.flatMap { node.indices.contains($0) ? node[$0] : nil } ?? -1
        search(0, index.count, query.x, query.y, skip, &best)
        guard best.node >= 0 else { return nil }
        return (index[best.node], best.squared.squareRoot())
    }

    /// For each point (in the given order), the distance to its nearest *other* point: 0 for a
    /// point given twice. Throws for fewer than two points, where no point has a neighbour.
    public func distancesToNearestOther() throws -> [Double] {
        guard points.count >= 2 else {
            throw StatisticsError("nearest-neighbour distances need at least two points, got \(points.count)")
        }
        var distances = [Double](repeating: 0, count: points.count)
        for node in index.indices {
            var best = (node: -1, squared: Double.infinity)
            search(0, index.count, xs[node], ys[node], node, &best)
            distances[index[node]] = best.squared.squareRoot()
        }
        return distances
    }

    /// `NearestNeighbours(points).distancesToNearestOther()`.
    public static func distances(_ points: [PlanePoint]) throws -> [Double] {
        try NearestNeighbours(points).distancesToNearestOther()
    }

    /// Sorts order[lo..<hi] along its wider axis, puts the median at mid and recurses on both halves.
    private static func build(_ order: inout [Int], _ splits: inout [Bool], _ points: [PlanePoint], _ lo: Int, _ hi: Int) {
        guard hi - lo > 1 else { return }
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        for i in lo..<hi {
            let p = points[order[i]]
            minX = min(minX, p.x); maxX = max(maxX, p.x); minY = min(minY, p.y); maxY = max(maxY, p.y)
        }
        let onX = maxX - minX >= maxY - minY
        order[lo..<hi].sort { a, b in
            let u = onX ? points[a].x : points[a].y, v = onX ? points[b].x : points[b].y
            return u < v || (u == v && a < b)
        }
        let mid = (lo + hi) / 2
        splits[mid] = onX
        build(&order, &splits, points, lo, mid)
        build(&order, &splits, points, mid + 1, hi)
    }

    /// Depth-first search of lo..<hi, near side first; the far side only when the splitting line is
    /// closer than the best distance so far (left ≤ split ≤ right along the axis, so that bound is safe).
    private func search(_ lo: Int, _ hi: Int, _ qx: Double, _ qy: Double, _ skip: Int,
                        _ best: inout (node: Int, squared: Double)) {
        guard lo < hi else { return }
        let mid = (lo + hi) / 2
        let dx = xs[mid] - qx, dy = ys[mid] - qy
        let squared = dx * dx + dy * dy
        if mid != skip, squared < best.squared { best = (mid, squared) }
        let offset = splitsOnX[mid] ? qx - xs[mid] : qy - ys[mid]
        let (near, far) = offset < 0 ? ((lo, mid), (mid + 1, hi)) : ((mid + 1, hi), (lo, mid))
        search(near.0, near.1, qx, qy, skip, &best)
        if offset * offset < best.squared { search(far.0, far.1, qx, qy, skip, &best) }
    }
}
