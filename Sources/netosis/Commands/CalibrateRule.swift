import ArgumentParser
import Cluster
import Imaging
import Pipeline

/// `netosis calibrate-rule`: the ImageJ baseline's solidity threshold from annotated images.
struct CalibrateRule: DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate-rule",
        abstract: "Calibrate the ImageJ rule baseline (solidity threshold) on the annotated images of patches.h5; screen with it by --method rule.",
        discussion: """
        The paper's rule: rolling-ball background subtraction, an Isodata threshold, objects under 100 px and \
        objects touching the border removed, then one solidity (area / convex area) threshold between \
        NETotic and non-NETotic. The paper prints the threshold as 5.677, which cannot be a solidity (≤ 1); \
        this verb finds it instead: every image of the chosen splits of --data (default train and val, never \
        test) is segmented with the rule's steps, each annotated non-NETotic and NETotic object (a patch \
        centre of class 1 or 2) is matched to the rule object under it (or the nearest within --match-radius), \
        and the threshold and direction with the best balanced accuracy are written to --out (JSON, \
        netosis.rule). Under mpirun the images are shared out over ranks.
        """)

    @Option(help: "Labelled patches (netosis.patches from `netosis prepare`): its images and annotated objects.")
    var data: String

    @Option(help: "Rule file to write (netosis.rule, JSON).")
    var out: String

    @Option(parsing: .upToNextOption, help: "Splits whose images calibrate: train, val, test.")
    var splits: [String] = ["train", "val"]

    @Option(help: "Match an annotated centre outside every object to the nearest object centroid within this distance (px).")
    var matchRadius = 8.0

    @Option(help: "Segmentation YAML for the rule (default: the ImageJ steps above).")
    var segmentation: String?

    @Flag(help: "Replace an existing rule file.")
    var overwrite = false

    func validate() throws {
        guard matchRadius >= 0 && matchRadius <= 100 else { throw ValidationError("--match-radius must be in 0…100 px (got \(matchRadius))") }
        guard !splits.isEmpty else { throw ValidationError("--splits needs at least one of train, val, test") }
        if let bad = splits.first(where: { PatchSplit(name: $0) == nil }) {
            throw ValidationError("--splits: '\(bad)' is not a split (train, val, test)")
        }
    }

    func run(on world: Communicator) throws {
        let console = Console("calibrate-rule", world: world)
        let config = try segmentation.map { try SegmentationConfig.load($0) } ?? SolidityRule.imageJSegmentation
        try CalibrateRuleJob.run(CalibrateRuleOptions(data: data, output: out, splits: splits.compactMap(PatchSplit.init(name:)), segmentation: config,
                                                      matchRadius: matchRadius, overwrite: overwrite),
                                 world: world, log: console.log, warn: console.warn, progress: console.progress)
    }
}
