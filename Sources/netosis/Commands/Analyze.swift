import Analysis
import ArgumentParser
import Cluster
import Pipeline

/// `netosis analyze`: the statistics that turn counts into science.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Statistics from counts: dose-response curves and EC50s (more analyses to come).",
        subcommands: [AnalyzeDoseResponse.self])
}

extension DoseResponseModel: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased() == "4pl" ? "4PL" : argument) }
}

/// `netosis analyze dose-response`: 4PL fits and EC50s per group, compared within each agonist.
struct AnalyzeDoseResponse: DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "dose-response",
        abstract: "4PL fits of % NETotic on log10 concentration per group: EC50 with 95% CI, bands, EC50 comparison.",
        discussion: """
        Input: results files of screen (images of a well pooled; failed images left out and listed) with \
        the plate map screen kept or --platemap, or a counts table CSV with the columns \
        plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype,netotic,non_netotic (one row per well, \
        from any counting tool). Response = % NETotic = 100 × NETotic / (NETotic + non-NETotic). Wells with \
        concentration 0 are vehicle controls, shown apart, never fitted; a vehicle-only agonist (DMSO) is shown \
        with every curve of the same other groups. Fits are Prism's "log(agonist) vs. response, variable slope" \
        (bottom, top, logEC50, Hill slope) by Levenberg–Marquardt, with asymptotic 95% CIs, confidence bands and \
        R²; an ambiguous or failed fit says why instead of printing an EC50. Groups of one agonist are compared \
        by the extra-sum-of-squares F test (one shared logEC50 vs one each). Writes wells.csv, fits.csv, \
        curves.csv, comparisons.csv, excluded.csv, dose-response.json and dose-response.svg into --out \
        (docs/analysis.md, docs/file-formats.md).
        """)

    @Option(parsing: .upToNextOption, help: "Results files (netosis.results), one or more.")
    var results: [String] = []

    @Option(help: "Counts table CSV instead of results files (columns above).")
    var table: String?

    @Option(help: "Plate-map CSV for results files (default: the one screen --platemap kept).")
    var platemap: String?

    @Option(help: "Plate-map columns that make a group, comma-separated (e.g. agonist,genotype or agonist,donor).")
    var groupBy = "agonist"

    @Flag(help: "The paper's normalisation: 0 = the smallest and 100 = the largest dose mean over all groups.")
    var normalize = false

    @Option(help: "4PL (bottom, top, logEC50, Hill) or normalized (bottom 0 and top 100 fixed; needs --normalize).")
    var model: DoseResponseModel = .fourParameter

    @Option(help: "Leave out wells with fewer NETotic + non-NETotic nuclei than this; 1…1000000.")
    var minNuclei = 50

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Flag(help: "Replace files an earlier analysis wrote in the folder (other files are never replaced).")
    var overwrite = false

    func validate() throws {
        try requireFlag("--min-nuclei", minNuclei, in: 1...1_000_000)
    }

    /// Rank 0 analyses; the other ranks of an mpirun have nothing to do.
    func run(on world: Communicator) throws {
        guard world.isRoot else { return }
        let console = Console("analyze", world: world)
        let columns = groupBy.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        try DoseResponseJob.run(DoseResponseOptions(results: results, table: table, plateMap: platemap, groupBy: columns,
                                                    normalize: normalize, model: model, minimumNuclei: minNuclei, folder: out,
                                                    overwrite: overwrite),
                                log: console.log, warn: console.warn)
    }
}
