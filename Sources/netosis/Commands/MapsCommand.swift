import ArgumentParser
import Cluster
import Pipeline

extension MapBorder: ExpressibleByArgument {}

/// `netosis maps`: stage-1 probability maps of whole images, for the PL counter's stage 2.
struct MapsCommand: DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "maps",
        abstract: "Stage-1 probability maps of the images of a patches file, with their counts: the PL counter's stage-2 training data.",
        discussion: """
        The pixel-level (PL) counter (docs/methods.md): stage 1, a window network trained on 32×32 patches of \
        `prepare --mode point` (config/models/pl-stage1.yaml, input_normalization: image), is applied to every \
        valid window of each image in one sliding-window pass; stage 2 (`train --task count`) learns the \
        image's non-NETotic and NETotic counts from these maps. Every image of --patches is mapped, keeping its \
        split; its counts are its patches labelled non-NETotic and NETotic (its markers, in point mode). \
        All images must have one size. Under mpirun the images are shared out over the ranks.
        """)

    @Option(help: "Stage-1 checkpoint (a sequential window network trained with input_normalization: image).")
    var stage1: String

    @Option(help: "Patches file (netosis.patches, format 3) whose images and counts to map.")
    var patches: String

    @Option(help: "Windows stage 1 sees: valid (inside the image: the paper's 481×641 map of a 512×672 field) or reflect (the image mirrored at its border as prepare cuts patches: a map of the image's size, every object seen whole).")
    var border: MapBorder = .valid

    @Option(help: "Maps file to write (netosis.maps).")
    var out: String

    @Flag(help: "Replace an existing maps file.")
    var overwrite = false

    func run(on world: Communicator) throws {
        let console = Console("maps", world: world)
        try MapsJob.run(MapsOptions(stage1: stage1, patches: patches, output: out, border: border, overwrite: overwrite),
                        world: world, log: console.log, warn: console.warn, progress: console.progress)
    }
}
