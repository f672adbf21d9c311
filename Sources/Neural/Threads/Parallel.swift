import Dispatch
import Foundation

/// Splits elementwise work (BatchNorm, im2col, pooling) over threads.
///
/// Default: 1 thread. Measured on the 2-core reference machine (docs/benchmarks.md), running
/// elementwise kernels on GCD threads next to OpenBLAS's pthreads (which spin between GEMM
/// calls) slowed training from 38 to 22 images/s: the GEMMs lost their second core. Set
/// NETOSIS_ELEMENTWISE_THREADS to experiment on other machines.
public enum Parallel {
    /// Threads for elementwise kernels.
    nonisolated(unsafe) public static var threadsOverride: Int? =
        ProcessInfo.processInfo.environment["NETOSIS_ELEMENTWISE_THREADS"].flatMap { Int($0) }

    public static var threads: Int {
        if let t = threadsOverride { return max(1, t) }
        return 1
    }

    /// Kept for callers that change BLAS threads (elementwise threads do not follow them).
    public static func refresh() {}

    /// Calls `body` on disjoint sub-ranges covering 0..<count, concurrently when worthwhile.
    @inline(__always)
    public static func ranges(_ count: Int, minimumPerThread: Int = 64, _ body: (Range<Int>) -> Void) {
        let t = min(threads, max(1, count / max(1, minimumPerThread)))
        if t <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: t) { i in
            body(count * i / t ..< count * (i + 1) / t)
        }
    }
}
