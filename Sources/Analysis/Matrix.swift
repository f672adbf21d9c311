/// A small dense matrix of Doubles in column-major order (LAPACK's layout), for the normal
/// equations and covariances of curve fits — a handful of rows and columns, not images.
public struct Matrix: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    /// Element (r, c) is at r + c·rows.
    public var values: [Double]

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0)
        self.rows = rows
        self.columns = columns
        values = Array(repeating: value, count: rows * columns)
    }

    /// From a list of rows (all of the same length).
    public init(_ rowList: [[Double]]) {
        let columns = rowList.first?.count ?? 0
        precondition(rowList.allSatisfy { $0.count == columns }, "rows of different lengths")
        self.init(rows: rowList.count, columns: columns)
        for (r, row) in rowList.enumerated() { for (c, v) in row.enumerated() { self[r, c] = v } }
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row + column * rows] }
        set { values[row + column * rows] = newValue }
    }

    public var diagonal: [Double] { (0..<min(rows, columns)).map { self[$0, $0] } }

    /// Aᵀ·A (the Gauss–Newton matrix of a Jacobian A).
    public var gram: Matrix {
        var g = Matrix(rows: columns, columns: columns)
        for i in 0..<columns {
            for j in i..<columns {
                var s = 0.0
                for r in 0..<rows { s += self[r, i] * self[r, j] }
                g[i, j] = s
                g[j, i] = s
            }
        }
        return g
    }

    /// Aᵀ·v.
    public func transposeTimes(_ v: [Double]) -> [Double] {
        precondition(v.count == rows)
        return (0..<columns).map { c in (0..<rows).reduce(0.0) { $0 + self[$1, c] * v[$1] } }
    }

    /// A·v.
    public func times(_ v: [Double]) -> [Double] {
        precondition(v.count == columns)
        var out = Array(repeating: 0.0, count: rows)
        for c in 0..<columns where v[c] != 0 { for r in 0..<rows { out[r] += self[r, c] * v[c] } }
        return out
    }

    /// vᵀ·A·v for a square A (the variance of a linear combination v of estimates with covariance A).
    public func quadraticForm(_ v: [Double]) -> Double {
        precondition(rows == columns && v.count == rows)
        var s = 0.0
        for c in 0..<columns { for r in 0..<rows { s += v[r] * self[r, c] * v[c] } }
        return s
    }
}
