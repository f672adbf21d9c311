import COpenBLAS

/// Dense linear algebra through LAPACK (OpenBLAS's exports), for the small systems of curve
/// fitting. Each call copies its inputs; nil means the matrix is not what the routine needs
/// (not positive definite, rank deficient), which callers report as singular.
public enum LinearSolve {
    /// x with A·x = b for a symmetric positive definite A (Cholesky: dpotrf + dpotrs).
    public static func solveSPD(_ a: Matrix, _ b: [Double]) -> [Double]? {
        precondition(a.rows == a.columns && b.count == a.rows, "solveSPD: \(a.rows)×\(a.columns) with \(b.count)")
        guard a.rows > 0 else { return [] }
        guard var factor = cholesky(a) else { return nil }
        var n = blasint(a.rows), one = blasint(1), ld = blasint(a.rows), info = blasint(0)
        var uplo = CChar(UInt8(ascii: "L"))
        var x = b
        dpotrs_(&uplo, &n, &one, &factor.values, &ld, &x, &ld, &info, 1)
        return info == 0 && x.allSatisfy(\.isFinite) ? x : nil
    }

    /// A⁻¹ of a symmetric positive definite A (dpotrf + dpotri), both triangles filled.
    public static func inverseSPD(_ a: Matrix) -> Matrix? {
        precondition(a.rows == a.columns, "inverseSPD: \(a.rows)×\(a.columns)")
        guard a.rows > 0 else { return a }
        guard var m = cholesky(a) else { return nil }
        var n = blasint(a.rows), ld = blasint(a.rows), info = blasint(0)
        var uplo = CChar(UInt8(ascii: "L"))
        dpotri_(&uplo, &n, &m.values, &ld, &info, 1)
        guard info == 0 else { return nil }
        for c in 0..<a.columns { for r in 0..<c { m[r, c] = m[c, r] } }   // mirror the lower triangle
        return m.values.allSatisfy(\.isFinite) ? m : nil
    }

    /// x minimising ‖A·x − b‖ for A with at least as many rows as columns and full column rank
    /// (QR: dgels); nil when A is numerically rank deficient (a diagonal element of R below
    /// 1e-12 of the largest: dgels itself only refuses exact zeros).
    public static func leastSquares(_ a: Matrix, _ b: [Double]) -> [Double]? {
        precondition(b.count == a.rows && a.rows >= a.columns, "leastSquares: \(a.rows)×\(a.columns) with \(b.count)")
        guard a.columns > 0 else { return [] }
        var m = blasint(a.rows), n = blasint(a.columns), one = blasint(1)
        var lda = blasint(a.rows), ldb = blasint(a.rows), info = blasint(0)
        var trans = CChar(UInt8(ascii: "N"))
        var work = a.values, rhs = b
        // Workspace query first (lwork = −1), then the solve.
        var size = 0.0, query = blasint(-1)
        dgels_(&trans, &m, &n, &one, &work, &lda, &rhs, &ldb, &size, &query, &info, 1)
        guard info == 0 else { return nil }
        var lwork = blasint(max(Int(size), 1))
        var buffer = Array(repeating: 0.0, count: Int(lwork))
        dgels_(&trans, &m, &n, &one, &work, &lda, &rhs, &ldb, &buffer, &lwork, &info, 1)
        guard info == 0 else { return nil }
        let r = (0..<a.columns).map { abs(work[$0 + $0 * a.rows]) }
        guard let largest = r.max(), r.allSatisfy({ $0 > 1e-12 * largest }) else { return nil }
        let x = Array(rhs.prefix(a.columns))
        return x.allSatisfy(\.isFinite) ? x : nil
    }

    /// The eigenvalues of a symmetric matrix, ascending (dsyev); nil if LAPACK does not converge.
    public static func symmetricEigenvalues(_ a: Matrix) -> [Double]? {
        precondition(a.rows == a.columns, "symmetricEigenvalues: \(a.rows)×\(a.columns)")
        guard a.rows > 0 else { return [] }
        var n = blasint(a.rows), lda = blasint(a.rows), info = blasint(0)
        var jobz = CChar(UInt8(ascii: "N")), uplo = CChar(UInt8(ascii: "L"))
        var m = a.values
        var w = Array(repeating: 0.0, count: a.rows)
        var size = 0.0, query = blasint(-1)
        dsyev_(&jobz, &uplo, &n, &m, &lda, &w, &size, &query, &info, 1, 1)
        guard info == 0 else { return nil }
        var lwork = blasint(max(Int(size), 3 * a.rows))
        var work = Array(repeating: 0.0, count: Int(lwork))
        dsyev_(&jobz, &uplo, &n, &m, &lda, &w, &work, &lwork, &info, 1, 1)
        return info == 0 ? w : nil
    }

    /// Eigenvalues (ascending) and eigenvectors (the columns of the matrix, unit length) of a
    /// symmetric matrix (dsyev with vectors); nil if LAPACK does not converge.
    public static func symmetricEigen(_ a: Matrix) -> (values: [Double], vectors: Matrix)? {
        precondition(a.rows == a.columns, "symmetricEigen: \(a.rows)×\(a.columns)")
        guard a.rows > 0 else { return ([], a) }
        var n = blasint(a.rows), lda = blasint(a.rows), info = blasint(0)
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "L"))
        var m = a
        var w = Array(repeating: 0.0, count: a.rows)
        var size = 0.0, query = blasint(-1)
        dsyev_(&jobz, &uplo, &n, &m.values, &lda, &w, &size, &query, &info, 1, 1)
        guard info == 0 else { return nil }
        var lwork = blasint(max(Int(size), 3 * a.rows))
        var work = Array(repeating: 0.0, count: Int(lwork))
        dsyev_(&jobz, &uplo, &n, &m.values, &lda, &w, &work, &lwork, &info, 1, 1)
        return info == 0 ? (w, m) : nil
    }

    /// The lower Cholesky factor L (A = L·Lᵀ) in the lower triangle; nil unless A is SPD.
    private static func cholesky(_ a: Matrix) -> Matrix? {
        guard a.values.allSatisfy(\.isFinite) else { return nil }
        var m = a
        var n = blasint(a.rows), ld = blasint(a.rows), info = blasint(0)
        var uplo = CChar(UInt8(ascii: "L"))
        dpotrf_(&uplo, &n, &m.values, &ld, &info, 1)
        return info == 0 ? m : nil
    }
}
