import Analysis
import Foundation
import Imaging

/// The report's check against manual annotations (`report --annotations DIR`): how many markers lie
/// on a segmented object (inside its bounding box — results keep boxes, not masks) and how the
/// screen's counts per class agree with the annotators' (Pearson r, MAE, bias: the paper's Fig. 1C).
struct AnnotationQC {
    var pairedImages = 0
    var markers = 0
    var covered = 0
    var counts: CountReport?
    var problems: [String] = []

    var coverage: Double { markers == 0 ? .nan : Double(covered) / Double(markers) }

    static func measure(_ set: ResultsSet, annotations folder: String, from results: String, classMap: ClassMap = .standard) throws -> AnnotationQC {
        var qc = AnnotationQC()
        let pairing = try CountsJob.annotations(of: set, in: folder, from: results)
        qc.problems = pairing.problems
        let byName = Dictionary(set.rows.filter(\.result.image.isOK).map { ($0.result.image.name, $0.result) }, uniquingKeysWith: { a, _ in a })
        var manual: [String: [Int]] = [:], predicted: [String: [Int]] = [:]
        for pair in pairing.pairs {
            guard let result = byName[pair.stem] else { continue }
            qc.pairedImages += 1
            let boxes = BoxIndex(result.objects, width: result.image.width, height: result.image.height)
            qc.markers += pair.annotations.markers.count
            qc.covered += pair.annotations.markers.filter { boxes.contains($0.x, $0.y) }.count
            manual[pair.stem] = CountsJob.manualCounts(pair, classMap: classMap)
            predicted[pair.stem] = result.image.counts
        }
        if !manual.isEmpty { qc.counts = try CountComparison.compare(classes: ScreenClasses.names, predicted: predicted, manual: manual) }
        return qc
    }

    /// Object boxes bucketed on a 64-px grid, so a marker is tested against the boxes near it only.
    struct BoxIndex {
        let cell = 64, columns: Int, rows: Int
        var buckets: [[Int]]
        let boxes: [Int32]

        init(_ objects: ObjectRows, width: Int, height: Int) {
            columns = max(1, (width + cell - 1) / cell); rows = max(1, (height + cell - 1) / cell)
            buckets = Array(repeating: [], count: columns * rows)
            boxes = objects.bbox
            for i in 0..<objects.count {
                let x0 = Int(boxes[4 * i]) / cell, y0 = Int(boxes[4 * i + 1]) / cell
                let x1 = min(columns - 1, Int(boxes[4 * i + 2]) / cell), y1 = min(rows - 1, Int(boxes[4 * i + 3]) / cell)
                guard x0 <= x1, y0 <= y1, x0 >= 0, y0 >= 0 else { continue }
                for y in y0...y1 { for x in x0...x1 { buckets[y * columns + x].append(i) } }
            }
        }

        func contains(_ x: Double, _ y: Double) -> Bool {
            guard x >= 0, y >= 0 else { return false }
            let px = Int(x.rounded()), py = Int(y.rounded())
            let cx = px / cell, cy = py / cell
            guard cx < columns, cy < rows else { return false }
            return buckets[cy * columns + cx].contains { i in
                px >= Int(boxes[4 * i]) && py >= Int(boxes[4 * i + 1]) && px <= Int(boxes[4 * i + 2]) && py <= Int(boxes[4 * i + 3])
            }
        }
    }
}
