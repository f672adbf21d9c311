import Cluster
import Foundation
import Imaging
import Storage

/// `netosis synth-celldeath`: a synthetic transmitted-light set for the celldeath method
/// (docs/celldeath.md "Synthetic data"). Images are split over ranks (image k on rank k mod N);
/// each is written atomically, and its bytes depend only on the seed and the image.
public enum CellDeathSynthJob {
    public static let settingsFile = "celldeath.json", truthFile = "truth.csv"

    /// Renders and writes the set; returns the truth rows (every rank gets them).
    @discardableResult
    public static func run(_ options: CellDeathSet.Options, out: String, overwrite: Bool = false, world: Communicator? = nil,
                           log: @escaping (String) -> Void = { print($0) }) throws -> [CellDeathSet.Image] {
        if let problem = options.problem { throw ImageError(path: out, problem: problem) }
        let rank = world?.rank ?? 0, size = world?.size ?? 1
        let plan = CellDeathSet.plan(options)
        var refusal: String? = nil
        if rank == 0 { refusal = checkFolder(out, plan: plan, options: options, overwrite: overwrite) }
        if let world { refusal = try world.broadcast(rank == 0 ? [refusal ?? ""] : nil).first.flatMap { $0.isEmpty ? nil : $0 } }
        if let refusal { throw ImageError(path: out, problem: refusal) }

        var mine: [CellDeathSet.Image] = []
        for k in stride(from: rank, to: plan.count, by: size) {
            let (image, truth) = CellDeathSet.render(options, plan[k])
            try AtomicFile.write(try image.pngData(), to: "\(out)/\(truth.file)")
            mine.append(truth)
        }
        let all = try world.map { try $0.allGather(mine).flatMap { $0 } } ?? mine
        let ordered = plan.map { p in all.first { $0.file == p.file }! }
        if rank == 0 {
            try AtomicFile.write(Data(CellDeathSet.truthCSV(ordered).utf8), to: "\(out)/\(truthFile)")
            let encoder = JSONEncoder(); encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(options), to: "\(out)/\(settingsFile)")
            let altered = ordered.filter { $0.treatment != "control" }
            let share = altered.isEmpty ? 0 : Double(altered.reduce(0) { $0 + $1.altered }) / Double(max(1, altered.reduce(0) { $0 + $1.cells }))
            log("synth-celldeath: \(plan.count) images of \(options.width)×\(options.height) (\(options.lines.count) lines × 2 treatments × "
                + "\(options.experiments) experiments × \(options.images)) in \(out); treated cultures: \(String(format: "%.1f", 100 * share))% of cells altered")
        }
        return ordered
    }

    /// Why OUT cannot take this set, or nil: a folder holding files this verb did not name, or a set
    /// made with other options (unless `overwrite`) is refused; nothing else is ever removed.
    static func checkFolder(_ out: String, plan: [CellDeathSet.Image], options: CellDeathSet.Options, overwrite: Bool) -> String? {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                return "cannot create the folder (\(error.localizedDescription))"
            }
            return nil
        }
        guard isDirectory.boolValue else { return "exists and is not a folder" }
        let present = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        if present.isEmpty { return nil }
        guard let data = FileManager.default.contents(atPath: "\(out)/\(settingsFile)"),
              let previous = try? JSONDecoder().decode(CellDeathSet.Options.self, from: data) else {
            return "holds files but no synthetic celldeath set (\(settingsFile)); choose an empty or new folder"
        }
        var names = Set(plan.map(\.file)); names.insert(settingsFile); names.insert(truthFile)
        for p in CellDeathSet.plan(previous) { names.insert(p.file) }
        if let foreign = present.first(where: { !names.contains($0) && !$0.hasPrefix(".") }) {
            return "holds '\(foreign)', which synth-celldeath did not write; choose an empty or new folder"
        }
        if previous != options && !overwrite {
            return "holds a synthetic celldeath set made with other options; pass --overwrite to replace it"
        }
        if previous != options {
            // Images of the old set that the new one does not write are removed (synth wrote them).
            let keep = Set(plan.map(\.file))
            for p in CellDeathSet.plan(previous) where !keep.contains(p.file) { try? FileManager.default.removeItem(atPath: "\(out)/\(p.file)") }
        }
        return nil
    }
}
