import COpenBLAS
import Foundation

/// Thin layer over OpenBLAS: single-precision GEMM and thread control.
public enum BLAS {
    public enum Transpose: Sendable {
        case none, transpose
        var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    }

    /// C = alpha · op(A) · op(B) + beta · C, row-major. op(A) is m×k, op(B) is k×n, C is m×n.
    /// Leading dimensions default to the packed row lengths.
    @inline(__always)
    public static func sgemm(_ transA: Transpose = .none, _ transB: Transpose = .none,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int? = nil,
                             b: UnsafePointer<Float>, ldb: Int? = nil,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        let lda = lda ?? (transA == .none ? k : m)
        let ldb = ldb ?? (transB == .none ? n : k)
        cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas, blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc ?? n))
    }

    /// Threads OpenBLAS will use for the next call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// The kernel family OpenBLAS selected at load time ("Haswell", "SkylakeX", "Cooperlake", ...).
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// OpenBLAS build configuration text (version, threading model, core).
    public static var configuration: String {
        openblas_get_config().map { String(cString: $0) } ?? "unknown"
    }

    /// Median sgemm GFLOP/s on n×n matrices over `repetitions` timed runs after one warm-up.
    /// Also checks the product against a hand-computed entry, so a broken library cannot pass.
    public static func measureGFLOPS(n: Int = 512, repetitions: Int = 5) -> (gflops: Double, correct: Bool) {
        var a = [Float](repeating: 0, count: n * n), b = a, c = a
        for i in 0..<n * n { a[i] = Float(i % 7) - 3; b[i] = Float(i % 5) - 2 }
        func multiply() { sgemm(m: n, n: n, k: n, a: a, b: b, c: &c) }
        multiply()
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            multiply()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let row = n / 3, column = n / 2
        var expected: Float = 0
        for p in 0..<n { expected += a[row * n + p] * b[p * n + column] }
        let median = times.sorted()[times.count / 2]
        return (2 * Double(n * n * n) / median / 1e9, c[row * n + column] == expected)
    }
}
