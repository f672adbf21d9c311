import ArgumentParser
import Cluster
import Pipeline

extension EvaluateSplit: ExpressibleByArgument {}

/// `netosis evaluate`: confusion matrix and per-class metrics of a checkpoint.
struct Evaluate: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a checkpoint on a split of patches.h5: confusion matrix, accuracy, balanced accuracy, per-class precision, recall and F1.",
        discussion: """
        Rows of the confusion matrix are the true class, columns the prediction; the row-normalised \
        matrix has each class's recall on its diagonal (precision is column-normalised). Patches are \
        z-scored as in training, without augmentation. Under mpirun the patches are split over ranks \
        and every patch is counted once. A count model (`train --task count`) is evaluated on a maps file \
        instead: each image's predicted counts (rounded) against its true counts, with r (95% CI), MAE and \
        bias per count as `netosis counts` reports them (--json: that report).
        """)

    @Option(help: "Checkpoint (netosis.checkpoint, e.g. DIR/best.h5 from `netosis train`).")
    var checkpoint: String

    @Option(help: "Labelled patches (netosis.patches), or maps (netosis.maps) for a count model.")
    var data: String

    @Option(help: "Which patches: \(EvaluateSplit.allCases.map(\.rawValue).joined(separator: ", ")).")
    var split: EvaluateSplit = .test

    @Option(help: "Also write the report as JSON to this file.")
    var json: String?

    @Option(help: "Patches per forward pass; 1…65536.")
    var batchSize = 64

    @Option(help: "Tiles files: write per-image (mean tile probability and vote) and per-tile predictions to this results.h5 (task image-classification).")
    var predictions: String?

    @Flag(help: "Replace an existing evaluate report (other files are never replaced).")
    var overwrite = false

    func validate() throws {
        try requireFlag("--batch-size", batchSize, in: 1...65536)
    }

    func run(on world: Communicator) throws {
        let console = Console("evaluate", world: world)
        let options = EvaluateOptions(checkpoint: checkpoint, data: data, split: split, json: json,
                                      batchSize: batchSize, overwrite: overwrite, predictions: predictions)
        if EvaluateJob.isMaps(data) {
            try EvaluateJob.runCounts(options, world: world, log: console.log)
        } else {
            try EvaluateJob.run(options, world: world, log: console.log, warn: console.warn, progress: console.progress)
        }
    }
}
