import ArgumentParser
import Cluster
import Imaging
import Pipeline

extension SynthSet.Layout: ExpressibleByArgument {}
extension FieldOrder: ExpressibleByArgument {}

struct Synth: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a realistic synthetic plate set with full ground truth (the demo's embedded data).",
        discussion: """
        Per well: a 16-bit TIFF of SYTOX-stained neutrophils (multi-lobed non-NETotic nuclei, large diffuse \
        NETotic nuclei, debris and spread NETs, uneven illumination, Poisson–Gaussian noise), a Cell Counter \
        XML with a marker on every object (1 non-NETotic, 2 NETotic, 4 other), plus platemap.csv, \
        truth_nuclei.csv and truth_wells.csv. The NETotic fraction of each well follows a four-parameter \
        logistic dose-response (PMA 0.001–200 nM, A23187 0.05–8 µM, DMSO vehicle); odd plates are HbAA control \
        donors, even plates HbSS sickle-cell donors (weak PMA response). Layout and model: docs/file-formats.md, \
        docs/synthetic.md. The same seed gives the same bytes under any number of ranks.

        OUT/manifest.json lists every file synth wrote (size, SHA-256) and the options. Rerunning into OUT: \
        a new or empty folder is written; a set with the same options (and netosis version) is resumed — \
        complete wells are kept, the rest written, giving the bytes of an uninterrupted run; a set made \
        otherwise is refused unless --overwrite, which removes only the files its manifest lists. Files synth \
        did not write are never removed or replaced: a folder holding them and no set is refused, and so is a \
        set where one sits at a path synth would write or where a listed file was changed. A set from a \
        netosis without manifests (synth.json only) is replaced only with --overwrite (the files its \
        synth.json names). Details: docs/synthetic.md.
        """)

    @Option(help: "Output folder (created; see the rerun rules above).")
    var out: String

    @Option(help: "Random seed (any whole number 0…2^64-1).")
    var seed: UInt64 = 1

    @Option(help: "Number of plates, 1…99 (odd plates: control donors, even plates: sickle-cell donors).")
    var plates: Int = 2

    @Option(help: "Wells per plate (1–96, filled row-major from A01).")
    var wells: Int = 12

    @Option(help: "Well image width in pixels, 64…16384 (the real stitched well is 4032).")
    var width: Int = 1344

    @Option(help: "Well image height in pixels, 64…16384 (the real stitched well is 3072).")
    var height: Int = 1024

    @Flag(help: "Real well size, 4032×3072 (overrides --width/--height).")
    var fullSize = false

    @Option(help: "stitched: one TIFF per well; fields: the well's 672×512 fields as <plate>_<well>_fNN.tif (markers and truth stay in well coordinates).")
    var layout: SynthSet.Layout = .stitched

    @Option(help: "Acquisition order of fields in --layout fields: row-major, column-major or snake.")
    var fieldOrder: FieldOrder = .rowMajor

    @Flag(help: "Replace a synthetic set in --out made with other options or another netosis version (only files synth wrote are removed).")
    var overwrite = false

    private var options: SynthSet.Options {
        let (w, h) = fullSize ? (4032, 3072) : (width, height)
        return SynthSet.Options(seed: seed, plates: plates, wells: wells, width: w, height: h, layout: layout, fieldOrder: fieldOrder)
    }

    func validate() throws {
        if let problem = options.problem { throw ValidationError(problem) }
    }

    func run(on world: Communicator) throws {
        let console = Console("synth", world: world)
        try SynthJob.run(options, out: out, overwrite: overwrite, world: world, log: console.log, warn: console.warn, progress: console.progress)
    }
}
