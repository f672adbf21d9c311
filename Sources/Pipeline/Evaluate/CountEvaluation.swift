import Analysis
import Cluster
import Foundation
import Neural
import Storage

/// `netosis evaluate` of a count model (the PL counter's stage 2) on a maps file: each image of the
/// split gets the model's counts (rounded to whole objects, never below 0), compared with its true
/// counts as `netosis counts` compares a screen with manual counts (r with CI, MAE, bias). Rank r
/// predicts every N-th image; rank 0 gathers and reports.
extension EvaluateJob {
    /// Whether `path` is a maps file (evaluated as counts).
    public static func isMaps(_ path: String) -> Bool { (try? FileHeader.open(path, expecting: MapsFile.format)) != nil }

    @discardableResult
    public static func runCounts(_ options: EvaluateOptions, world: Communicator? = nil,
                                 log: @escaping (String) -> Void = { print($0) }) throws -> CountReport? {
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let output = rank == 0
            ? try options.json.map { path in
                try OutputFile.check(path, kind: "count report (JSON)", inputs: [options.checkpoint, options.data],
                                     overwrite: options.overwrite) { CountsJob.isReport($0) }
              }
            : nil
        let model = try WeightIO.loadModel(path: options.checkpoint)
        let maps = try MapsDataset(path: options.data)
        if let problem = maps.mismatch(with: model.modelConfig) { throw TrainError(problem) }
        let k = maps.countNames.count
        let rows = maps.rows(in: options.split.split?.rawValue)
        guard !rows.isEmpty else { throw TrainError("\(options.data): the \(options.split.rawValue) split holds no image") }
        // Predictions of this rank's images, as [row, count…] so rank 0 can place them.
        var mine: [Double] = []
        var input = [Float](repeating: 0, count: maps.sampleSize)
        for i in stride(from: rank, to: rows.count, by: size) {
            try input.withUnsafeMutableBufferPointer { try maps.readMap(rows[i], into: $0) }
            let out = input.withUnsafeBufferPointer { model.forward($0.baseAddress!, batch: 1, height: maps.height, width: maps.width, training: false) }
            mine.append(Double(rows[i]))
            for j in 0..<k { mine.append(Double(out[j])) }
        }
        var all = mine
        if let world, size > 1 {
            let gathered = try world.allGather(mine)
            all = gathered.flatMap { $0 }
        }
        guard rank == 0 else { return nil }
        var predicted: [String: [Int]] = [:], manual: [String: [Int]] = [:]
        for start in stride(from: 0, to: all.count, by: k + 1) {
            let row = Int(all[start])
            predicted[maps.names[row]] = (0..<k).map { max(0, Int(all[start + 1 + $0].rounded())) }
            manual[maps.names[row]] = (0..<k).map { Int(maps.counts[row * k + $0].rounded()) }
        }
        let report = try CountComparison.compare(classes: maps.countNames, predicted: predicted, manual: manual)
        log("evaluate: counts of '\(model.name)' on the \(options.split.rawValue) split of \(options.data)")
        for line in CountsJob.table(report) { log(line) }
        if let output {
            let data = try report.jsonData()
            try output.write { try AtomicFile.writeBytes(data, to: $0) }
        }
        return report
    }
}
