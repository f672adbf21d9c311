import ArgumentParser
import Cluster
import Pipeline

/// `netosis export`: CSV tables from results files.
struct Export: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-image, per-well and per-object CSV from results.h5 files, plate-map columns joined.",
        discussion: """
        Writes DIR/images.csv (one row per image: status, counts per class, percent NETotic, mean \
        probabilities), DIR/wells.csv (images of a well pooled: counts summed, percent NETotic = 100 × \
        NETotic / (NETotic + non-NETotic) of the sums, and the mean of the images' percentages; failed \
        images are counted, not pooled) and DIR/objects.csv (one row per nucleus). With --platemap \
        (plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype, extra columns kept), or else the \
        plate map screen --platemap kept in the results files, its columns are joined on plate + well. Several results files (a Slurm job array) are read as one; an image \
        found in two is reported and its ok row used (between two ok rows, the file named first). Missing \
        values (a percentage without NETotic or non-NETotic objects) are empty cells.
        """)

    @Option(parsing: .upToNextOption, help: "Results files (netosis.results), one or more.")
    var results: [String]

    @Option(help: "Output folder for images.csv, wells.csv and objects.csv (created if missing).")
    var csv: String

    @Option(help: "Plate-map CSV to join (plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype). Default: the one screen kept.")
    var platemap: String?

    @Flag(help: "Replace tables an earlier export wrote in the folder (other files are never replaced).")
    var overwrite = false

    /// Rank 0 writes the tables; under mpirun the other ranks have nothing to do.
    func run(on world: Communicator) throws {
        guard world.isRoot else { return }
        let console = Console("export", world: world)
        try ExportJob.run(ExportOptions(results: results, folder: csv, plateMap: platemap, overwrite: overwrite),
                          log: console.log, warn: console.warn)
    }
}
