import Cluster
import Foundation
import Imaging

/// `netosis synth`: a synthetic plate set with full ground truth (docs/synthetic.md).
public enum SynthJob {
    /// Wells are rendered in rounds over ranks; rank 0 writes the truth tables in plan order, so
    /// the set is byte-identical for any rank count. Returns the number of objects (rank 0; 0 elsewhere).
    @discardableResult
    public static func run(_ options: SynthSet.Options, out: String, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> Int {
        if let problem = options.problem { throw ImageError(path: out, problem: problem) }
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let plan = PlateDesign.plateMap(plates: options.plates, wells: options.wells)
        if rank == 0 { try SynthSet.prepareDirectories(out, plan: plan, options: options) }
        try world?.barrier()
        let mine = try SynthSet.generate(options, plan: plan, to: out, shard: rank, shards: size) { done, _ in
            progress(min(plan.count, done * size), plan.count)
        }
        // Rank 0 collects every well's truth rows and writes the tables in plan order.
        var byIndex: [Int: SynthSet.WellRows] = [:]
        if let world, size > 1 {
            guard let all = try world.gather(bytes: Array(try JSONEncoder().encode(mine))) else { return 0 }
            for blob in all {
                for r in try JSONDecoder().decode([SynthSet.WellRows].self, from: Data(blob)) { byIndex[r.index] = r }
            }
        } else {
            for r in mine { byIndex[r.index] = r }
        }
        let ordered = plan.indices.map { byIndex[$0]! }
        try SynthSet.writeTables(to: out, options: options, plan: plan, nuclei: ordered.map { $0.nuclei },
                                 wells: ordered.map { $0.well })
        let objects = ordered.reduce(0) { $0 + $1.nuclei.count }
        let plates = options.plates
        log("synth: \(plan.count) wells (\(plates) plate\(plates == 1 ? "" : "s") × \(options.wells)), \(options.width)×\(options.height) px, \(objects) objects → \(out)")
        return objects
    }
}
