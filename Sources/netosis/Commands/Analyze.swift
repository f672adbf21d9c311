import Analysis
import ArgumentParser
import Cluster
import Pipeline

/// `netosis analyze`: the statistics that turn counts into science.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Statistics from counts: dose-response curves and EC50s, clustering of NETotic nuclei, donor cohorts.",
        subcommands: [AnalyzeDoseResponse.self, AnalyzeClustering.self, AnalyzeCohort.self])
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
        curves.csv, comparisons.csv, excluded.csv, dose-response.json, dose-response.svg and plates.svg (heatmaps \
        of % NETotic per plate) into --out \
        (docs/analysis.md).
        """)

    @OptionGroup var input: ResultsInput

    @Option(help: "Counts table CSV instead of results files (columns above).")
    var table: String?

    @Option(help: "Plate-map columns that make a group, comma-separated (e.g. agonist,genotype or agonist,donor).")
    var groupBy = "agonist"

    @Flag(help: "The paper's normalisation: 0 = the smallest and 100 = the largest dose mean over all groups.")
    var normalize = false

    @Option(help: "4PL (bottom, top, logEC50, Hill) or normalized (bottom 0 and top 100 fixed; needs --normalize).")
    var model: DoseResponseModel = .fourParameter

    @OptionGroup var minimum: MinimumNuclei

    @OptionGroup var output: AnalysisOutput

    /// Rank 0 analyses; the other ranks of an mpirun have nothing to do.
    func run(on world: Communicator) throws {
        guard world.isRoot else { return }
        let console = Console("analyze", world: world)
        let columns = groupBy.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        try DoseResponseJob.run(DoseResponseOptions(results: input.results, table: table, plateMap: input.platemap, groupBy: columns,
                                                    normalize: normalize, model: model, minimumNuclei: minimum.minNuclei, folder: output.out,
                                                    overwrite: output.overwrite),
                                log: console.log, warn: console.warn)
    }
}

/// `netosis analyze clustering`: ANND of NETotic nuclei per tile, Clark–Evans, count-matched KS.
struct AnalyzeClustering: DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "clustering",
        abstract: "Clustering of NETotic nuclei: ANND per tile, Clark–Evans, the paper's count-matched KS test between treatments.",
        discussion: """
        Input: results files of screen (NETotic objects of ok images; the treatment is the --group-by column \
        of the plate map screen kept or --platemap), or two tables from any tool: --nuclei (image,x,y,class; \
        class 2 or NETotic counts) and --images (image,width,height,group). Each image is cut into --tiles \
        ROWSxCOLUMNS tiles (the paper: 6x7 over a 4032×3072 well, 576×512 px); in each tile with at least \
        --min-per-tile NETotic nuclei the average nearest-neighbour distance (ANND, neighbours within the \
        tile) and the Clark–Evans ratio with Donnelly's edge correction (clustered / random / dispersed) are \
        measured; Clark–Evans over the whole image too. Two treatments are compared as in the paper: tiles \
        paired by NETotic count (within --max-count-difference), a two-sample KS test on the paired ANNDs, \
        repeated over --repetitions seeded draws, every p reported with their median and the fraction below \
        alpha; a paired t-test on each draw is reported alongside (the KS test after count matching is \
        conservative: docs/analysis.md). Writes images.csv, tiles.csv, comparisons.csv, excluded.csv, \
        clustering.json and annd-cdf.svg into --out.
        """)

    @OptionGroup var input: ResultsInput

    @Option(help: "Nuclei table CSV (image,x,y,class) instead of results files.")
    var nuclei: String?

    @Option(help: "Images table CSV (image,width,height,group) for --nuclei.")
    var images: String?

    @Option(help: "Plate-map column whose values are the treatments (results input).")
    var groupBy = "agonist"

    @Option(help: "Tiles per image as ROWSxCOLUMNS.")
    var tiles = "6x7"

    @Option(help: "Tiles with fewer NETotic nuclei get no ANND; 2…100000.")
    var minPerTile = 20

    @Option(help: "Treatments to compare as FIRST,SECOND (repeat for more pairs). Default: every pair.")
    var compare: [String] = []

    @Option(help: "Seeded draws of the count matching, each with its KS test; 1…100000 (the paper: 10).")
    var repetitions = 100

    @Option(help: "Largest NETotic count difference between paired tiles; 0…100000, or 'none'.")
    var maxCountDifference = "2"

    @Option(help: "Seed of the count-matching draws.")
    var seed: UInt64 = 1

    @Option(help: "Significance level of the verdicts; 0.0001…0.5.")
    var alpha = 0.05

    @OptionGroup var output: AnalysisOutput

    var grid: (rows: Int, columns: Int)? {
        let parts = tiles.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 2, let r = parts[0], let c = parts[1], (1...1000).contains(r), (1...1000).contains(c) else { return nil }
        return (r, c)
    }

    func validate() throws {
        guard grid != nil else { throw ValidationError("--tiles: '\(tiles)' is not ROWSxCOLUMNS (1…1000 each), e.g. 6x7") }
        try requireFlag("--min-per-tile", minPerTile, in: 2...100_000)
        try requireFlag("--repetitions", repetitions, in: 1...100_000)
        try requireFlag("--alpha", alpha, in: 0.0001...0.5)
        guard maxCountDifference == "none" || (Int(maxCountDifference).map { (0...100_000).contains($0) } ?? false) else {
            throw ValidationError("--max-count-difference: '\(maxCountDifference)' is not a whole number 0…100000 or 'none'")
        }
        for pair in compare where pair.split(separator: ",").count != 2 {
            throw ValidationError("--compare: '\(pair)' is not FIRST,SECOND")
        }
    }

    /// Rank 0 analyses; the other ranks of an mpirun have nothing to do.
    func run(on world: Communicator) throws {
        guard world.isRoot else { return }
        let console = Console("analyze", world: world)
        let pairs = compare.map { p -> (String, String) in
            let two = p.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return (two[0], two[1])
        }
        try ClusteringJob.run(ClusteringOptions(results: input.results, nuclei: nuclei, images: images, plateMap: input.platemap,
                                                groupBy: groupBy.lowercased(), tileRows: grid!.rows, tileColumns: grid!.columns,
                                                minimumPerTile: minPerTile, comparisons: pairs, repetitions: repetitions,
                                                maximumCountDifference: Int(maxCountDifference), seed: seed, alpha: alpha,
                                                folder: output.out, overwrite: output.overwrite),
                              log: console.log, warn: console.warn)
    }
}

/// `netosis analyze cohort`: dose × genotype with donors as a random effect.
struct AnalyzeCohort: DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Donor cohorts: per agonist, % NETotic ~ dose × factor + (1 | donor) by REML, F tests with Satterthwaite df, EC50s.",
        discussion: """
        The paper compared sickle-cell and control donors by a two-way mixed-effects ANOVA because points \
        were missing. Here, per agonist: every well's % NETotic = 100 × NETotic / (NETotic + non-NETotic) \
        modelled as dose (each concentration a level) × --factor (e.g. genotype) with a random intercept per \
        donor, fitted by REML (as lme4's lmer; donors with missing points still count), and the type III F \
        tests of dose, factor and their interaction with sum-to-zero contrasts and Satterthwaite's denominator \
        df (as R's lmerTest anova). A significant interaction says the groups' dose-responses differ in shape. \
        Plus the 4PL fits and EC50s per factor level (donors pooled) and per donor. Inputs as analyze \
        dose-response (results files with the plate map, or a counts table); the plate map's donor column \
        names the donors. With complete, balanced data (every donor at every dose, equal replicates) also the \
        classic two-way repeated-measures ANOVA on donor × dose means (anova-classic.csv; else it says why not). \
        Writes anova.csv, anova-classic.csv, ec50.csv, excluded.csv, cohort.json and cohort.svg into --out.
        """)

    @OptionGroup var input: ResultsInput

    @Option(help: "Counts table CSV instead of results files (plate-map columns + netotic,non_netotic).")
    var table: String?

    @Option(help: "The plate-map column of the donor groups compared.")
    var factor = "genotype"

    @OptionGroup var minimum: MinimumNuclei

    @OptionGroup var output: AnalysisOutput

    func run(on world: Communicator) throws {
        guard world.isRoot else { return }
        let console = Console("analyze", world: world)
        try CohortJob.run(CohortOptions(results: input.results, table: table, plateMap: input.platemap, factor: factor,
                                        minimumNuclei: minimum.minNuclei, folder: output.out, overwrite: output.overwrite),
                          log: console.log, warn: console.warn)
    }
}
