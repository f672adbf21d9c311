import Foundation

/// Per-layer-type wall-time accounting for `netosis bench`. Off by default; when off, `time`
/// costs one branch.
public enum Profiler {
    public enum Category: String, CaseIterable, Sendable {
        case convStem = "conv (stem 7x7)", conv1x1 = "conv 1x1 (GEMM)", convKxK = "conv kxk (GEMM)",
             im2col = "im2col/col2im", winograd = "winograd transforms", batchNorm = "batchnorm+relu", pooling = "pooling",
             dense = "classifier", loss = "loss", optimizer = "optimizer",
             communication = "gradient all-reduce", other = "other"
    }
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var totals = [Double](repeating: 0, count: Category.allCases.count)
    nonisolated(unsafe) private static var depth = 0
    private static let index: [Category: Int] = Dictionary(uniqueKeysWithValues: Category.allCases.enumerated().map { ($1, $0) })

    @inline(__always)
    public static func time<R>(_ category: Category, _ body: () throws -> R) rethrows -> R {
        // Only the outermost timed region counts, so nested categories are not double-billed.
        // Only the calling thread's (member 0 of a thread team: the others do the same work).
        guard enabled, depth == 0, Thread.isMainThread else { return try body() }
        depth += 1
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            totals[index[category]!] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            depth -= 1
        }
        return try body()
    }

    public static func reset() { totals = totals.map { _ in 0 } }

    /// Seconds per category since the last reset.
    public static func snapshot() -> [(Category, Double)] {
        Category.allCases.enumerated().map { ($1, totals[$0]) }
    }
}
