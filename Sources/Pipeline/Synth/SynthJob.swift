import Cluster
import Foundation
import Imaging

/// `netosis synth`: a synthetic plate set with full ground truth (docs/synthetic.md).
public enum SynthJob {
    /// What rank 0 decided from OUT (SynthRun.open) and every rank needs.
    struct Work: Codable {
        var write: [Int]      // wells to render and write, in plan order
        var reread: [Int]     // complete wells whose truth rows the tables still need (rendered, not written)
        var complete: Bool
    }

    /// What a rank hands rank 0 after a round: the truth rows and manifest entries of its well.
    struct Done: Codable {
        var rows: [SynthSet.WellRows] = []
        var entries: [SynthManifest.Entry] = []
        /// Results-only sets: the well's results row (`ScreenResult.encoded`).
        var result: Data?
    }

    /// Test-only fault point: `NETOSIS_SYNTH_STOP_AFTER_WELLS=N` makes rank 0 raise SIGTERM on itself
    /// as soon as the manifest lists N wells, so an interrupted run is reproducible without sleeps.
    static let stopAfterWells = ProcessInfo.processInfo.environment["NETOSIS_SYNTH_STOP_AFTER_WELLS"].flatMap { Int($0) }

    /// Wells are rendered in rounds over ranks (one well per rank per round); rank 0 lists each
    /// round's files in OUT/manifest.json once they are in place and writes the truth tables in plan
    /// order, so the set is byte-identical for any rank count and for any resumed run.
    /// Returns the number of objects (rank 0; 0 elsewhere).
    @discardableResult
    public static func run(_ options: SynthSet.Options, out: String, overwrite: Bool = false, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) },
                           warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) },
                           progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> Int {
        if let problem = options.problem { throw ImageError(path: out, problem: problem) }
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let plan = options.plan
        var run: SynthRun?
        var work: Work?
        if rank == 0 {
            let opened = try SynthRun.open(out, options: options, overwrite: overwrite)
            opened.notes.forEach(warn)
            let present = plan.indices.filter { !options.isMissing(plan[$0]) }
            let write = present.filter { !opened.completeWells.contains($0) }
            work = Work(write: write, reread: opened.isComplete ? [] : present.filter { opened.completeWells.contains($0) },
                        complete: opened.isComplete)
            run = opened
        }
        if let world { work = try world.broadcast(work) }
        guard let work else { return 0 }
        if work.complete {
            log("synth: \(out) already holds this set (\(plan.count) wells, complete); nothing written")
            return 0
        }

        var rows: [SynthSet.WellRows] = []
        var results: [ScreenResult] = []
        let checkpointID = options.isResultsOnly ? try TruthResults.identity(options).checkpointID : ""
        func collect(_ mine: Done) throws -> [Done] {
            guard let world, size > 1 else { return [mine] }
            guard let all = try world.gather(bytes: Array(try JSONEncoder().encode(mine))) else { return [] }
            return try all.map { try JSONDecoder().decode(Done.self, from: Data($0)) }
        }
        func truth(of well: SynthWell, _ index: Int) -> SynthSet.WellRows {
            SynthSet.WellRows(index: index, nuclei: SynthSet.nucleiRows(well), well: SynthSet.wellRow(well))
        }

        let rounds = (work.write.count + size - 1) / size
        for round in 0..<rounds {
            let batch = Array(work.write[round * size..<min(work.write.count, (round + 1) * size)])
            try run?.begin(batch.flatMap { SynthRun.wellPaths(plan[$0], options) })   // also saves the previous round's files
            if let stop = stopAfterWells, let listed = run?.listedWells, listed >= stop { raise(SIGTERM) }
            try world?.barrier()   // no rank writes before its paths are recorded as pending
            var mine = Done()
            if rank < batch.count, options.isResultsOnly {
                // No pixels: the objects are placed as for an image and become the truth and a results row.
                let index = batch[rank], row = plan[index]
                let placement = SynthSet.placeWell(index, plan: plan, options: options)
                let objects = placement.objects
                mine.rows = [SynthSet.WellRows(index: index, nuclei: SynthSet.nucleiRows(row, objects),
                                               well: SynthSet.wellRow(row, objects, expected: placement.expected))]
                mine.result = Data(try TruthResults.result(row, objects, options: options, checkpointID: checkpointID, rank: rank).encoded())
            } else if rank < batch.count {
                let index = batch[rank]
                let well = SynthSet.renderWell(index, plan: plan, options: options)
                _ = try SynthSet.writeWell(well, to: out, options: options)
                mine.rows = [truth(of: well, index)]
                mine.entries = try SynthRun.entries(out, SynthRun.wellPaths(plan[index], options))
            }
            for done in try collect(mine) {
                rows += done.rows
                run?.record(done.entries)
                if let bytes = done.result { results.append(try ScreenResult.decode(Array(bytes))) }
            }
            progress(min(work.write.count, (round + 1) * size), work.write.count)
        }
        // Wells kept from an earlier run: their truth rows are rendered again (deterministic), not read back.
        var kept = Done()
        for (k, index) in work.reread.enumerated() where k % size == rank {
            kept.rows.append(truth(of: SynthSet.renderWell(index, plan: plan, options: options), index))
        }
        for done in try collect(kept) { rows += done.rows }
        guard var run else { return 0 }

        if let stop = stopAfterWells, run.listedWells >= stop {
            try run.begin([])
            raise(SIGTERM)
        }
        let ordered = rows.sorted { $0.index < $1.index }
        try run.writeTables(nuclei: ordered.map(\.nuclei), wells: ordered.map(\.well)) { out in
            if options.isResultsOnly { try TruthResults.write(results, options: options, to: out) }
        }
        let objects = ordered.reduce(0) { $0 + $1.nuclei.count }
        let plates = options.plates
        let resumed = work.reread.isEmpty ? "" : " (\(work.reread.count) kept from the earlier run)"
        let lost = plan.count - ordered.count
        let cohort = options.cohort.map { ", \($0.controls) HbAA + \($0.sickleCell) HbSS donors" } ?? ""
        let what = options.isResultsOnly ? " (results files from the truth, no images)" : ""
        let freeze = options.hasPhenotypes ? " + \(Phenotypes.freezeWells(wells: options.wells)) freeze" : ""
        log("synth: \(plan.count) wells\(resumed) (\(plates) plate\(plates == 1 ? "" : "s") × \(options.wells)\(freeze)\(cohort))"
            + (lost > 0 ? ", \(lost) lost" : "") + ", \(options.width)×\(options.height) px, \(objects) objects\(what) → \(out)")
        if options.hasPhenotypes {
            log(String(format: "synth: phenotypes: PMA and A23187 NETs share %.0f%% of their shapes; the best any classifier can tell them apart "
                       + "is %.1f%% balanced accuracy (Bayes rule on the generator's shape parameters; synth.json)",
                       100 * (1 - Phenotypes.typicalShare), 100 * Phenotypes.balancedSeparability))
        }
        return objects
    }
}
