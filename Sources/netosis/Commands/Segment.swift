import ArgumentParser
import Cluster
import Pipeline

struct Segment: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find nuclei in images and write the object table (CSV or HDF5).",
        discussion: """
        --input is one image or a folder searched recursively for .tif/.tiff. Every object gets its \
        centroid, bounding box, area, mean/max intensity, solidity and eccentricity (docs/segmentation.md). \
        OUT.csv: one row per object, plus OUT.images.csv with one row per image (status, error, count). \
        OUT.h5: /images/* and /objects/* columns with the configuration as an attribute. \
        An unreadable image is reported (file and problem) and recorded as failed; the others are \
        processed. With --annotations, markers (Cell Counter XML or points CSV, matched to images by \
        Image_Filename or file name) are compared with the objects: coverage within label_radius and \
        objects that absorbed two or more markers. Under mpirun, images are shared over ranks.
        """)

    @Option(help: "An image (.tif/.tiff) or a folder of images (searched recursively).")
    var input: String

    @Option(help: "Output: OUT.csv or OUT.h5.")
    var out: String

    @OptionGroup(title: "Segmentation")
    var segmentation: SegmentationOptions

    @Option(help: "Folder of annotation files to report marker coverage (CellCounter_<stem>.xml, <stem>.xml or <stem>.csv).")
    var annotations: String?

    @Option(help: "Marker types counted in the coverage report, each 1…64 (default: types mapped to non-NETotic or NETotic).")
    var coverageTypes: [Int] = []

    @Flag(help: "Replace an existing object table written by netosis segment (other files are never replaced).")
    var overwrite = false

    @Flag(help: "One line per image.")
    var verbose = false

    func validate() throws {
        let lower = out.lowercased()
        guard lower.hasSuffix(".csv") || lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") else {
            throw ValidationError("--out must end in .csv or .h5 (got \(out))")
        }
        for type in coverageTypes { try requireFlag("--coverage-types", type, in: 1...64) }
    }

    func run(on world: Communicator) throws {
        let options = SegmentOptions(input: input, output: out, segmentation: try segmentation.settings(),
                                     classMap: try segmentation.classes(), annotations: annotations,
                                     coverageTypes: coverageTypes, verbose: verbose, overwrite: overwrite)
        let console = Console("segment", world: world)
        try SegmentJob.run(options, world: world, log: console.log, warn: console.warn, progress: console.progress)
    }
}
