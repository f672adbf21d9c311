/// Exact nearest neighbours among points of the plane, through a 2-d tree: built in
/// O(n log n), a query visits O(log n) nodes on spread-out data, so the nearest-neighbour
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
        var xs = points.map(\.x), ys = points.map(\.y), index = Array(points.indices)
        var splits = [Bool](repeating: true, count: points.count)
        xs.withUnsafeMutableBufferPointer { x in
            ys.withUnsafeMutableBufferPointer { y in
                index.withUnsafeMutableBufferPointer { i in
                    splits.withUnsafeMutableBufferPointer { s in
                        Tree(xs: x, ys: y, index: i, splitsOnX: s).build(0, points.count)
                    }
                }
            }
        }
        self.index = index
        self.xs = xs
        self.ys = ys
        splitsOnX = splits
        var inverse = [Int](repeating: 0, count: points.count)
        for (n, i) in index.enumerated() { inverse[i] = n }
        node = inverse
    }

    /// The point nearest to `query` (the smallest index among equally near ones is not promised),
    /// leaving out the point at index `excluding`; nil when no other point is left.
    public func nearest(to query: PlanePoint, excluding: Int? = nil) -> (index: Int, distance: Double)? {
        var best = (node: -1, squared: Double.infinity)
        let skip = excluding.flatMap { node.indices.contains($0) ? node[$0] : nil } ?? -1
        withView { $0.search(0, index.count, query.x, query.y, skip, &best) }
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
        withView { view in
            for node in index.indices {
                var best = (node: -1, squared: Double.infinity)
                view.search(0, index.count, view.xs[node], view.ys[node], node, &best)
                distances[index[node]] = best.squared.squareRoot()
            }
        }
        return distances
    }

    /// `NearestNeighbours(points).distancesToNearestOther()`.
    public static func distances(_ points: [PlanePoint]) throws -> [Double] {
        try NearestNeighbours(points).distancesToNearestOther()
    }

    /// The tree under construction: coordinates and original indices permuted together (buffers
    /// rather than arrays: no copy-on-write checks in the inner loops of debug builds).
    private struct Tree {
        let xs: UnsafeMutableBufferPointer<Double>, ys: UnsafeMutableBufferPointer<Double>
        let index: UnsafeMutableBufferPointer<Int>, splitsOnX: UnsafeMutableBufferPointer<Bool>

        /// Puts the median of lo..<hi along its wider axis at mid (quickselect: smaller or equal
        /// keys before it, larger or equal after) and recurses on both halves: O(n log n) in all.
        func build(_ lo: Int, _ hi: Int) {
            guard hi - lo > 1 else { return }
            var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
            for i in lo..<hi {
                minX = min(minX, xs[i]); maxX = max(maxX, xs[i]); minY = min(minY, ys[i]); maxY = max(maxY, ys[i])
            }
            let onX = maxX - minX >= maxY - minY
            let mid = (lo + hi) / 2
            select(mid, lo, hi - 1, onX)
            splitsOnX[mid] = onX
            build(lo, mid)
            build(mid + 1, hi)
        }

        /// Quickselect on l...r with a three-way partition (many equal keys — repeated points, a
        /// line, a lattice — stay linear) around the median of three.
        private func select(_ target: Int, _ left: Int, _ right: Int, _ onX: Bool) {
            var l = left, r = right
            while l < r {
                let a = key(l, onX), b = key((l + r) / 2, onX), c = key(r, onX)
                let pivot = max(min(a, b), min(max(a, b), c))
                var lt = l, i = l, gt = r
                while i <= gt {
                    let k = key(i, onX)
                    if k < pivot {
                        swap(lt, i); lt += 1; i += 1
                    } else if k > pivot {
                        swap(i, gt); gt -= 1
                    } else {
                        i += 1
                    }
                }
                // l..<lt below the pivot, lt...gt equal to it, gt+1...r above.
                if target < lt { r = lt - 1 } else if target > gt { l = gt + 1 } else { return }
            }
        }

        private func key(_ i: Int, _ onX: Bool) -> Double { onX ? xs[i] : ys[i] }

        private func swap(_ i: Int, _ j: Int) {
            xs.swapAt(i, j); ys.swapAt(i, j); index.swapAt(i, j)
        }
    }

    private func withView(_ body: (View) -> Void) {
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeBufferPointer { y in
                splitsOnX.withUnsafeBufferPointer { s in body(View(xs: x, ys: y, splitsOnX: s)) }
            }
        }
    }

    /// The built tree, read through buffers (the search is the hot loop).
    private struct View {
        let xs: UnsafeBufferPointer<Double>, ys: UnsafeBufferPointer<Double>, splitsOnX: UnsafeBufferPointer<Bool>

        /// Depth-first search of lo..<hi, near side first; the far side only when the splitting line
        /// is closer than the best distance so far (left ≤ split ≤ right along the axis, so that
        /// bound is safe).
        func search(_ lo: Int, _ hi: Int, _ qx: Double, _ qy: Double, _ skip: Int,
                    _ best: inout (node: Int, squared: Double)) {
            guard lo < hi else { return }
            let mid = (lo + hi) / 2
            let dx = xs[mid] - qx, dy = ys[mid] - qy
            let squared = dx * dx + dy * dy
            if mid != skip, squared < best.squared { best = (mid, squared) }
            let offset = splitsOnX[mid] ? qx - xs[mid] : qy - ys[mid]
            if offset < 0 {
                search(lo, mid, qx, qy, skip, &best)
                if offset * offset < best.squared { search(mid + 1, hi, qx, qy, skip, &best) }
            } else {
                search(mid + 1, hi, qx, qy, skip, &best)
                if offset * offset < best.squared { search(lo, mid, qx, qy, skip, &best) }
            }
        }
    }
}
