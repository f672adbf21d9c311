import Foundation
import ArgumentParser
import Cluster
import Imaging
import Pipeline

struct SynthCellDeath: DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth-celldeath",
        abstract: "Write a synthetic transmitted-light set with known truth for the celldeath method.",
        discussion: """
        RGB PNG photographs of dense cultures of --lines cell-line styles (cobble, spindle, polygon, \
        smallround, flat, cluster, resistant), untreated ("control") or an hour after a drug ("CPT"), \
        over --experiments experiments that differ in lamp level, vignetting and white balance. A treated \
        culture differs from its control only by the fraction of altered cells (rounded, shrunk, bright \
        halo, granular nucleus), --altered × the line's susceptibility (resistant: 0.35); controls hold 3% \
        rounded mitotic cells with smooth nuclei, so --altered near 0 is chance. Names: \
        LINE_TREATMENT_TIME_EXPERIMENT_NNN.png, e.g. cobble_CPT_1h_e2_003.png; OUT/truth.csv holds every \
        image's cell and altered-cell counts, OUT/celldeath.json the options. Images are shared over ranks; \
        the same seed gives the same bytes under any rank count. Details: docs/celldeath.md.
        """)

    @Option(help: "Output folder (new or empty, or holding a set this verb wrote).")
    var out: String

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Comma-separated cell-line styles (default: all seven).")
    var lines: String = CellLineStyle.presets.map(\.name).joined(separator: ",")

    @Option(help: "Experiments (each with its own illumination), 1…20.")
    var experiments: Int = 3

    @Option(help: "Images per line, treatment and experiment, 1…500.")
    var images: Int = 4

    @Option(help: "Image width in pixels (the paper's camera: 1280).")
    var width: Int = 640

    @Option(help: "Image height in pixels (the paper's camera: 960).")
    var height: Int = 480

    @Option(help: "Fraction of a treated culture's cells altered (× the line's susceptibility): 0.5 trivial … 0 chance.")
    var altered: Double = 0.25

    @Option(help: "SD of the lamp level between experiments, as a fraction (0…0.3).")
    var illuminationSD: Double = 0.08

    @Option(help: "Time point written into the file names.")
    var time: String = "1h"

    @Flag(help: "Replace a set in --out made with other options (only images this verb wrote are removed).")
    var overwrite = false

    var options: CellDeathSet.Options {
        var o = CellDeathSet.Options()
        o.seed = seed; o.lines = lines.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        o.experiments = experiments; o.images = images; o.width = width; o.height = height
        o.altered = altered; o.illuminationSD = illuminationSD; o.time = time
        return o
    }

    func validate() throws {
        if let problem = options.problem { throw ValidationError(problem) }
    }

    func run(on world: Communicator) throws {
        let console = Console("synth-celldeath", world: world)
        try CellDeathSynthJob.run(options, out: out, overwrite: overwrite, world: world, log: console.log)
    }
}
