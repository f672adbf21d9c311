import ArgumentParser
import Cluster
import Imaging
import Pipeline

/// `netosis counts`: predicted vs manual counts per image.
struct Counts: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare per-image counts in results.h5 with manual Cell Counter counts: Pearson r (95% CI, p), MAE, Bland–Altman.",
        discussion: """
        Manual counts are the markers of each image's annotation file (Cell Counter XML or points CSV, \
        paired with images as prepare pairs them), mapped to classes by the class map (default: types 1 \
        non-NETotic, 2 NETotic, 3–5 other). For each class: n, Pearson r with its 95% confidence interval \
        (Fisher z) and two-sided p-value (t with n−2 df), mean absolute error (and as % of the mean \
        manual count), Bland–Altman bias (predicted − manual), the sd of the differences and the 95% \
        limits of agreement. Images that failed in screening or have no annotation file are listed, not \
        compared. --json writes the report (format netosis-counts, docs/file-formats.md).
        """)

    @Option(parsing: .upToNextOption, help: "Results files (netosis.results), one or more.")
    var results: [String]

    @Option(help: "Folder of annotation files (Cell Counter .xml or points .csv).")
    var annotations: String

    @Option(help: "Write the report as JSON here.")
    var json: String?

    @Option(help: "Marker type → class map YAML. Default: config/annotations.yaml's map.")
    var classMap: String?

    @Option(help: "Wells YAML (config/wells.yaml), to pair annotation files with wells assembled from fields. Default: built-in.")
    var wellsConfig: String?

    @Flag(help: "Replace an existing counts report.")
    var overwrite = false

    func run(on world: Communicator) throws {
        guard world.isRoot else { return }
        let console = Console("counts", world: world)
        let options = CountsOptions(results: results, annotations: annotations, json: json,
                                    classMap: try classMap.map { try ClassMap.load($0) } ?? .standard,
                                    wells: try wellsConfig.map { try WellConfig.load($0) } ?? .standard, overwrite: overwrite)
        try CountsJob.run(options, log: console.log, warn: console.warn)
    }
}
