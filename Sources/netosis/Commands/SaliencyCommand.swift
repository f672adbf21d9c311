import ArgumentParser
import Cluster
import Imaging
import Neural
import Pipeline

extension SaliencyMethod: ExpressibleByArgument {}

/// `netosis saliency`: what a network looks at, per patch.
struct SaliencyCommand: DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "saliency",
        abstract: "Saliency maps (guided backprop, Grad-CAM, guided Grad-CAM) of a checkpoint's class scores for patches of patches.h5.",
        discussion: """
        Each map explains one class score (logit) of one patch, in inference mode: guided backprop is the \
        gradient of the score with respect to the input with guided ReLUs (fine detail); Grad-CAM weighs a \
        convolutional layer's channels by the spatial mean of their gradients (coarse: where); guided \
        Grad-CAM multiplies the two. By default each patch's predicted class is explained and Grad-CAM \
        uses the last convolution's activation. Written to --out (HDF5: /rows, /labels, /predicted, \
        /class, /patches, /maps) and, with --png, one PNG per patch: patch, map, overlay. For DenseNet, \
        Grad-CAM is at features/norm5 (torchvision's features output). Guided backprop passes the randomisation sanity check less \
        clearly than Grad-CAM (docs/methods.md): read its maps as edges, not evidence.
        """)

    @Option(help: "Checkpoint (netosis.checkpoint) of a DenseNet or sequential model.")
    var checkpoint: String

    @Option(help: "Labelled patches (netosis.patches).")
    var patches: String

    @Option(parsing: .upToNextOption, help: "Patch rows to explain (default: the first --limit rows of --split).")
    var rows: [Int] = []

    @Option(help: "Split whose patches are explained when --rows is not given: train, val, test, all.")
    var split = "test"

    @Option(help: "At most this many patches from --split; 1…100000.")
    var limit = 64

    @Option(help: "Map kind: \(SaliencyMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: SaliencyMethod

    @Option(name: .customLong("class"), help: "Explain this class for every patch (default: each patch's predicted class).")
    var targetClass: Int?

    @Option(help: "Grad-CAM's layer index in a sequential model (default: the last convolution's activation).")
    var layer: Int?

    @Option(help: "Maps file to write (netosis.saliency).")
    var out: String

    @Option(help: "Also write one PNG per patch (patch | map | overlay) into this folder.")
    var png: String?

    @Flag(help: "Replace an existing saliency file.")
    var overwrite = false

    func validate() throws {
        try requireFlag("--limit", limit, in: 1...100_000)
        guard split == "all" || PatchSplit(name: split) != nil else { throw ValidationError("--split must be train, val, test or all (got '\(split)')") }
        if let bad = rows.first(where: { $0 < 0 }) { throw ValidationError("--rows: \(bad) is not a row index") }
    }

    func run(on world: Communicator) throws {
        let console = Console("saliency", world: world)
        try SaliencyJob.run(SaliencyOptions(checkpoint: checkpoint, patches: patches, rows: rows.isEmpty ? nil : rows,
                                            split: PatchSplit(name: split), limit: limit, method: method, targetClass: targetClass,
                                            layer: layer, output: out, pngFolder: png, overwrite: overwrite),
                            world: world, log: console.log, progress: console.progress)
    }
}
