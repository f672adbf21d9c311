import ArgumentParser
import Cluster
import Imaging
import Neural
import Pipeline

extension ScreenMethodName: ExpressibleByArgument {}

/// `netosis screen`: per-image NETotic / non-NETotic counts of a plate set into results.h5.
struct Screen: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment and classify every nucleus of a plate set: per-image counts and per-object rows in results.h5.",
        discussion: """
        --input is a folder of 8/16-bit greyscale TIFFs (searched recursively; wells stored as fields are \
        assembled by config/wells.yaml, as prepare does) or a manifest CSV with columns plate,well,field,path. \
        Each image is segmented, one patch per nucleus is cut around its centroid (the model's input size) and \
        classified; results.h5 gets one row per image (status ok/failed, counts per class, percent NETotic) and \
        one row per object (docs/file-formats.md). Exactly once: every finished image is fsynced into \
        OUT.journal, and OUT is rewritten atomically at the end; after a crash, a killed rank or a time limit, \
        the same command screens only what is missing. Images that failed stay failed unless --retry-failed. \
        A bad image (truncated, RGB, 12-bit, an incomplete field set) is recorded as failed with the reason and \
        the screen goes on. Under mpirun rank 0 hands out one image at a time and screens too; SIGUSR1/SIGTERM \
        stop the hand-out, the images in flight finish, OUT is written and the exit status is 75 (requeue). \
        A --platemap is kept in OUT (a rerun without one keeps it; with another one replaces it), so export \
        and analyze need no plate map of their own. --method rule screens with the paper's ImageJ baseline \
        instead of a network: --checkpoint is then a rule file from `netosis calibrate-rule` (its own \
        segmentation: rolling-ball background, Isodata threshold, objects ≥ 100 px not touching the border; \
        each object NETotic or non-NETotic by its solidity), and the segmentation flags do not apply. \
        --method pl counts with the paper's pixel-level counter: --checkpoint is its stage 1 and --stage2 its \
        count model (docs/methods.md); each image's non-NETotic and NETotic counts come from the two networks \
        without segmentation, so results.h5 holds counts but no objects (and no "other" count).
        """)

    @Option(help: "Checkpoint (netosis.checkpoint) of a 3-class model: other, non-NETotic, NETotic; with --method rule, a rule file (netosis.rule).")
    var checkpoint: String

    @Option(help: "How objects are classified: ol (the network, per nucleus patch), rule (the ImageJ solidity rule) or pl (the pixel-level counter).")
    var method: ScreenMethodName = .ol

    @Option(help: "With --method pl: the stage-2 count checkpoint (`train --task count`); --checkpoint is stage 1.")
    var stage2: String?

    @Option(help: "Folder of images, or a manifest CSV (plate,well,field,path).")
    var input: String

    @Option(help: "Results file (netosis.results); an existing one from the same checkpoint and settings is completed.")
    var out: String

    @Option(help: "Plate-map CSV (plate,well,agonist,concentration,unit,vehicle_pct,donor,genotype): checked now, kept in OUT for export and the analyses.")
    var platemap: String?

    @Option(help: "Patches per forward pass; 1…65536.")
    var batchSize = 64

    @OptionGroup var segmentation: SegmentationOptions

    @Option(help: "Wells YAML (config/wells.yaml): name patterns and the field grid. Default: built-in.")
    var wellsConfig: String?

    @Option(help: "Per-patch normalisation: \(PatchNormalization.allCases.map(\.rawValue).joined(separator: " or ")) (as the checkpoint was trained).")
    var normalize: PatchNormalization = .zscore

    @Option(help: "Whole colour photographs instead of nuclei: cut each into this many tiles (2, 4, 6, 8) and call it with an image classifier trained on `netosis tiles` (the celldeath method); results.h5 then holds one call per image and per tile.")
    var tiles: Int?

    @Option(help: ArgumentHelp("With --tiles: the classes in the checkpoint's label order (as `tiles --classes` gave them).", valueName: "a,b,…"))
    var classes: String?

    @Flag(help: "Screen images again whose earlier row is failed.")
    var retryFailed = false

    @Flag(help: "Start OUT afresh, dropping its earlier rows (and an interrupted run's journal).")
    var overwrite = false

    func validate() throws {
        try requireFlag("--batch-size", batchSize, in: 1...65536)
    }

    func run(on world: Communicator) throws {
        if let tiles {
            let console = Console("screen", world: world)
            try ImageScreenJob.run(.init(checkpoint: checkpoint, input: input, output: out, tiles: tiles,
                                         classes: classes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
                                         overwrite: overwrite), world: world, log: console.log, warn: console.warn)
            return
        }
        var options = ScreenOptions(checkpoint: checkpoint, input: input, output: out, batchSize: batchSize,
                                    segmentation: try segmentation.settings(),
                                    wells: try wellsConfig.map { try WellConfig.load($0) } ?? .standard,
                                    normalization: normalize, retryFailed: retryFailed, overwrite: overwrite,
                                    plateMap: platemap)
        options.method = method
        options.stage2 = stage2
        let console = Console("screen", world: world)
        _ = try ScreenJob.run(options, world: world, log: console.log, warn: console.warn, status: console.status)
    }
}
