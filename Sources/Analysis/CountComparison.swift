import Foundation

/// Compares per-image object counts predicted by a method with manual counts, class by class:
/// correlation (r, 95 % CI, p) and agreement (MAE, bias, limits of agreement). The result is the
/// report `netosis counts --json` writes (`CountReport`).
public enum CountComparison {
    /// `predicted` and `manual` map an image name to its counts, one per entry of `classes`, in that
    /// order. Images on only one side are listed in the report, not compared. Throws when a count
    /// list has the wrong length or a negative count, the class names repeat, or no image has both.
    public static func compare(classes: [String], predicted: [String: [Int]],
                               manual: [String: [Int]]) throws -> CountReport {
        guard !classes.isEmpty else { throw StatisticsError("count comparison needs at least one class") }
        guard Set(classes).count == classes.count else {
            throw StatisticsError("count comparison: class names repeat (\(classes.joined(separator: ", ")))")
        }
        for (side, table) in [("predicted", predicted), ("manual", manual)] {
            for (image, counts) in table {
                guard counts.count == classes.count else {
                    throw StatisticsError("image \(image): \(counts.count) \(side) counts for \(classes.count) classes (\(classes.joined(separator: ", ")))")
                }
                if let bad = counts.first(where: { $0 < 0 }) {
                    throw StatisticsError("image \(image): \(side) count \(bad) is negative")
                }
            }
        }
        let both = predicted.keys.filter { manual[$0] != nil }.sorted()
        guard !both.isEmpty else {
            throw StatisticsError("count comparison: no image has both predicted and manual counts "
                                  + "(\(predicted.count) predicted, \(manual.count) manual)")
        }
        let rows = both.map { image in
            ImageCountRow(image: image,
                          predicted: Dictionary(uniqueKeysWithValues: zip(classes, predicted[image]!)),
                          manual: Dictionary(uniqueKeysWithValues: zip(classes, manual[image]!)))
        }
        let perClass = try classes.indices.map { k in
            try ClassAgreement(className: classes[k],
                               predicted: both.map { predicted[$0]![k] }, manual: both.map { manual[$0]![k] })
        }
        return CountReport(classes: perClass, images: rows,
                           imagesWithoutManual: predicted.keys.filter { manual[$0] == nil }.sorted(),
                           imagesWithoutPrediction: manual.keys.filter { predicted[$0] == nil }.sorted())
    }
}
