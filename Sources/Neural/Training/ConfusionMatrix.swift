import Foundation

/// Counts of (true class, predicted class) and the metrics read from them. Rows are the true
/// class, columns the prediction: recall is row-normalised, precision column-normalised.
public struct ConfusionMatrix: Codable, Equatable, Sendable {
    public let classes: Int
    /// Row-major [true][predicted].
    public var counts: [Int]
    /// Sum of the per-sample cross-entropy (for a mean validation loss).
    public var lossSum: Double

    public init(classes: Int, counts: [Int]? = nil, lossSum: Double = 0) {
        self.classes = classes
        self.counts = counts ?? [Int](repeating: 0, count: classes * classes)
        self.lossSum = lossSum
    }

    public mutating func add(truth: Int, predicted: Int) { counts[truth * classes + predicted] += 1 }

    /// Adds a batch of logits [n, classes]: arg-max predictions and the cross-entropy per sample.
    public mutating func add(logits: UnsafePointer<Float>, labels: [Int]) {
        for (i, y) in labels.enumerated() {
            let z = logits + i * classes
            var best = 0, m = Double(z[0])
            for j in 1..<classes where z[j] > z[best] { best = j }
            for j in 1..<classes { m = max(m, Double(z[j])) }
            var s = 0.0
            for j in 0..<classes { s += Foundation.exp(Double(z[j]) - m) }
            lossSum += m + Foundation.log(s) - Double(z[y])
            add(truth: y, predicted: best)
        }
    }

    public func count(truth: Int, predicted: Int) -> Int { counts[truth * classes + predicted] }
    public var total: Int { counts.reduce(0, +) }
    public func support(_ c: Int) -> Int { (0..<classes).reduce(0) { $0 + count(truth: c, predicted: $1) } }
    public func predictedCount(_ c: Int) -> Int { (0..<classes).reduce(0) { $0 + count(truth: $1, predicted: c) } }
    public var correct: Int { (0..<classes).reduce(0) { $0 + count(truth: $1, predicted: $1) } }

    /// Correct / total (NaN for no samples).
    public var accuracy: Double { total == 0 ? .nan : Double(correct) / Double(total) }
    /// TP / (true count): NaN for a class without samples.
    public var recall: [Double] { (0..<classes).map { c in support(c) == 0 ? .nan : Double(count(truth: c, predicted: c)) / Double(support(c)) } }
    /// TP / (predicted count): NaN for a class never predicted.
    public var precision: [Double] {
        (0..<classes).map { c in predictedCount(c) == 0 ? .nan : Double(count(truth: c, predicted: c)) / Double(predictedCount(c)) }
    }
    /// Harmonic mean of precision and recall (0 when both are 0, NaN when either is undefined).
    public var f1: [Double] {
        zip(precision, recall).map { p, r in p.isNaN || r.isNaN ? .nan : (p + r == 0 ? 0 : 2 * p * r / (p + r)) }
    }
    /// Mean recall over the classes that have samples.
    public var balancedAccuracy: Double {
        let r = recall.filter { !$0.isNaN }
        return r.isEmpty ? .nan : r.reduce(0, +) / Double(r.count)
    }
    /// Each row divided by its sum (rows of a class without samples are NaN).
    public var rowNormalized: [[Double]] {
        (0..<classes).map { t in
            let s = support(t)
            return (0..<classes).map { p in s == 0 ? .nan : Double(count(truth: t, predicted: p)) / Double(s) }
        }
    }
}
