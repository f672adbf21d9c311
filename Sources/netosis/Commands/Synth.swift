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

        For the analyses: --cohort 11,7 lays out the paper's cohort (each donor's DMSO + PMA + A23187 block \
        --replicates times, a random donor shift of --donor-sd, genotypes alternating over plates); \
        --missing-wells loses a fraction of wells (still in platemap.csv); --results-only writes \
        results/<plate>.h5 from the truth instead of images, as a perfect screen would, so a 20-plate cohort \
        is made and analysed in seconds. For the phenotype and necrosis CNNs: --phenotypes (agonist-specific \
        NET shapes with a known overlap, freeze wells of necrotic nuclei). None of these is on by default: \
        earlier seeds give the same sets.

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

    @Option(help: "Number of plates, 1…99 (odd plates: control donors, even plates: sickle-cell donors). Default 2.")
    var plates: Int?

    @Option(help: "Wells per plate (1–96, filled row-major from A01). Default 12.")
    var wells: Int?

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

    @Option(help: ArgumentHelp("A donor cohort instead of one donor per plate: CONTROLS,SICKLE_CELL donors (the paper: 11,7). Each donor gets --replicates blocks of DMSO + the PMA and A23187 series (17 wells); blocks fill 96-well plates, genotypes alternating. Decides plates and wells.", valueName: "controls,sickle-cell"))
    var cohort: String?

    @Option(help: "With --cohort: copies of each donor's 17-well block, 1…5.")
    var replicates: Int = 3

    @Option(help: "With --cohort: SD of each donor's shift of the NETotic fraction, the same at every dose (0…0.3).")
    var donorSD: Double = 0.03

    @Option(help: "Fraction of the plate map's wells lost at random (0…0.5): no image, no results row, still in platemap.csv.")
    var missingWells: Double = 0

    @Flag(help: "Write results/<plate>.h5 straight from the truth (what a perfect screen would give; no images or annotations) — cohort-scale analyses in seconds.")
    var resultsOnly = false

    @Flag(help: "Phenotypes for the phenotype and necrosis CNNs: NETs of PMA and A23187 wells take agonist-specific shapes with a known overlap (70% typical, 30% shared), and each plate gains freeze wells (necrosis by freezing; necrotic nuclei, marker type 3). Off by default.")
    var phenotypes = false

    @Flag(help: "Replace a synthetic set in --out made with other options or another netosis version (only files synth wrote are removed).")
    var overwrite = false

    /// `--cohort 11,7` as a cohort, or why not.
    private var cohortDesign: SynthCohort? {
        get throws {
            guard let cohort else { return nil }
            let parts = cohort.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let c = parts[0], let s = parts[1] else {
                throw ValidationError("--cohort '\(cohort)': expected CONTROLS,SICKLE_CELL donor counts, e.g. 11,7")
            }
            return SynthCohort(controls: c, sickleCell: s, replicates: replicates, donorSD: donorSD)
        }
    }

    private var options: SynthSet.Options {
        get throws {
            let (w, h) = fullSize ? (4032, 3072) : (width, height)
            return SynthSet.Options(seed: seed, plates: plates ?? 2, wells: wells ?? 12, width: w, height: h, layout: layout,
                                    fieldOrder: fieldOrder, cohort: try cohortDesign, missingWells: missingWells, resultsOnly: resultsOnly,
                                    phenotypes: phenotypes)
        }
    }

    func validate() throws {
        if cohort != nil && (plates != nil || wells != nil) {
            throw ValidationError("--plates/--wells: a --cohort's layout decides them (one 17-well block per donor and replicate)")
        }
        if cohort == nil && (replicates != 3 || donorSD != 0.03) {
            throw ValidationError("--replicates/--donor-sd apply to a --cohort only")
        }
        if let problem = try options.problem { throw ValidationError(problem) }
    }

    func run(on world: Communicator) throws {
        let console = Console("synth", world: world)
        try SynthJob.run(try options, out: out, overwrite: overwrite, world: world, log: console.log, warn: console.warn, progress: console.progress)
    }
}
