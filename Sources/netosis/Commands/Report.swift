import ArgumentParser
import Cluster
import Pipeline

/// `netosis report`: one self-contained HTML report of a screen.
struct Report: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "One self-contained HTML report: run metadata, QC, plate heatmaps, dose-response and EC50s, clustering, cohorts.",
        discussion: """
        Reads one or more results files (a Slurm job array's are read as one) with the plate map screen kept or \
        --platemap, and writes one HTML file with inline SVG and CSS — no script, nothing fetched from the \
        network — that opens from a shared file system: the checkpoint, model and segmentation of each results \
        file; QC (failed images with reasons, nuclei per image, wells missing from the plate map or from the \
        results, and with --annotations marker coverage and counts against the annotators'); per plate \
        heatmaps of % NETotic and of nuclei per well; dose-response curves per agonist (and genotype when the \
        plate map has several) with the EC50 table and F tests; clustering of NETotic nuclei per agonist (tiles \
        as near the paper's 576 × 512 px as the images allow); with donors of several genotypes, the cohort \
        comparison (mixed-model F tests, the classic repeated-measures table on complete data, EC50 per \
        genotype). The analyses behind it are netosis analyze dose-response, clustering and cohort (docs/analysis.md).
        """)

    @OptionGroup var input: ResultsInput

    @OptionGroup var minimum: MinimumNuclei

    @Option(help: "Folder of manual annotations (Cell Counter XML or points CSV) of screened images: QC shows marker coverage and counts against them.")
    var annotations: String?

    @Option(help: "The HTML file to write.")
    var out: String

    @Flag(help: "Replace a report written earlier at --out (other files are never replaced).")
    var overwrite = false

    func run(on world: Communicator) throws {
        guard world.isRoot else { return }
        let console = Console("report", world: world)
        try ReportJob.run(ReportOptions(results: input.results, plateMap: input.platemap, output: out, overwrite: overwrite,
                                        minimumNuclei: minimum.minNuclei, annotations: annotations),
                          log: console.log, warn: console.warn)
    }
}
