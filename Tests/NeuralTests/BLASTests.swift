import Neural
import XCTest

/// The BLAS wrapper against a naive triple loop, for every transpose combination and for
/// leading dimensions larger than the row (sub-matrices), plus thread control and the kernel rule.
final class BLASTests: XCTestCase {
    func naive(_ ta: BLAS.Transpose, _ tb: BLAS.Transpose, m: Int, n: Int, k: Int, alpha: Float,
               a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum: Double = 0
                for p in 0..<k {
                    let x = ta == .none ? a[i * lda + p] : a[p * lda + i]
                    let y = tb == .none ? b[p * ldb + j] : b[j * ldb + p]
                    sum += Double(x) * Double(y)
                }
                out[i * ldc + j] = alpha * Float(sum) + beta * c[i * ldc + j]
            }
        }
        return out
    }

    func testSgemmMatchesNaiveForAllTransposesAndStrides() {
        let m = 7, n = 5, k = 9
        for ta in [BLAS.Transpose.none, .transpose] {
            for tb in [BLAS.Transpose.none, .transpose] {
                // Padded leading dimensions: the wrapper must pass them through, not assume packing.
                let lda = (ta == .none ? k : m) + 3, ldb = (tb == .none ? n : k) + 2, ldc = n + 4
                let a = (0..<((ta == .none ? m : k) * lda)).map { Float(($0 * 37) % 23) / 7 - 1.5 }
                let b = (0..<((tb == .none ? k : n) * ldb)).map { Float(($0 * 11) % 17) / 5 - 1.2 }
                let c0 = (0..<(m * ldc)).map { Float($0 % 5) - 2 }
                var c = c0
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    BLAS.sgemm(ta, tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: lda,
                               b: bp.baseAddress!, ldb: ldb, beta: -0.25, c: cp.baseAddress!, ldc: ldc)
                } } }
                let expected = naive(ta, tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                                     beta: -0.25, c: c0, ldc: ldc)
                for i in 0..<m {
                    for j in 0..<n {
                        XCTAssertEqual(c[i * ldc + j], expected[i * ldc + j], accuracy: 1e-4, "\(ta)\(tb) [\(i),\(j)]")
                    }
                    for j in n..<ldc { XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j], "padding must stay untouched") }
                }
            }
        }
    }

    func testThreadControlAndReportedKernels() {
        let before = BLAS.threads
        defer { BLAS.threads = before }
        BLAS.threads = 1
        XCTAssertEqual(BLAS.threads, 1)
        XCTAssertFalse(BLAS.coreName.isEmpty)
        XCTAssertTrue(BLAS.configuration.contains("OpenBLAS"), BLAS.configuration)
        let measured = BLAS.measureGFLOPS(n: 128, repetitions: 3)
        XCTAssertTrue(measured.correct)
        XCTAssertGreaterThan(measured.gflops, 0)
    }

    func testKernelRule() {
        let avx512: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2"]
        // AVX-512 CPU with a site-wide Haswell setting: the rule picks SkylakeX.
        XCTAssertEqual(KernelPolicy.choose(environment: ["OPENBLAS_CORETYPE": "Haswell"], cpuFlags: avx512), .some("SkylakeX"))
        // An explicit netosis override wins, "auto" means unset.
        XCTAssertEqual(KernelPolicy.choose(environment: ["NETOSIS_OPENBLAS_CORETYPE": "Zen"], cpuFlags: avx512), .some("Zen"))
        XCTAssertEqual(KernelPolicy.choose(environment: ["NETOSIS_OPENBLAS_CORETYPE": "auto"], cpuFlags: avx512), .some(nil))
        // No AVX-512 (or only part of it): keep the environment.
        XCTAssertEqual(KernelPolicy.choose(environment: ["OPENBLAS_CORETYPE": "Haswell"], cpuFlags: ["avx2", "avx512f"]), .none)
    }
}
