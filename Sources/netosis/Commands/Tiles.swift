import ArgumentParser
import Cluster
import Foundation
import Pipeline

struct Tiles: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut whole RGB images into labelled tiles for image classification (the celldeath method).",
        discussion: """
        --input is a folder (searched recursively) of 8-bit RGB PNG, JPEG or TIFF images of one size. Each \
        image is cut into --tiles tiles (2, 4, 6, 8: grids 1×2, 2×2, 2×3, 2×4, rows × columns of a landscape \
        image; portrait images take the transposed grid) and written to a patches file with a channel axis \
        (/patches [N, H, W, 3], format 4, task image-classification; docs/file-formats.md). \
        Classes: from the file name split at '_' into --fields with --label-field naming the class field \
        (cobble_CPT_1h_e2_003.png with --fields line,treatment,time,experiment,index --label-field treatment), \
        from --label CLASS=REGEX rules tried in order, or from --labels CSV (columns file,label and any \
        others as fields). Splits are made per --split-by unit (image, or a field such as experiment or \
        well), so tiles of one image are never on both sides: --test FIELD=VALUE holds those images out as \
        test (the paper: one whole experiment), --val-fraction of the remaining units per class go to \
        validation. A corrupt or wrong-size image is one warning line; the rest go on. Under mpirun, images \
        are read on all ranks and written by rank 0.
        """)

    @Option(help: "Folder of RGB images (.png, .jpg, .tif).")
    var input: String

    @Option(help: "Output patches file (tiles.h5).")
    var out: String

    @Option(help: "Tiles per image: 1, 2, 4, 6 or 8.")
    var tiles: Int = 4

    @Option(help: ArgumentHelp("Names of the '_'-separated parts of a file stem.", valueName: "name,name,…"))
    var fields: String?

    @Option(help: "The --fields part that holds the class (e.g. treatment).")
    var labelField: String?

    @Option(help: ArgumentHelp("A class and a regular expression matched against the file name; repeatable, first match wins.", valueName: "CLASS=REGEX"))
    var label: [String] = []

    @Option(help: "CSV with columns file,label (other columns become fields).")
    var labels: String?

    @Option(help: ArgumentHelp("Class names in label order (default: sorted).", valueName: "a,b,…"))
    var classes: String?

    @Option(help: ArgumentHelp("Keep only images whose field has one of the values; repeatable.", valueName: "FIELD=V1,V2"))
    var only: [String] = []

    @Option(help: ArgumentHelp("Images whose field has one of the values form the test split.", valueName: "FIELD=V1,V2"))
    var test: String?

    @Option(help: "Unit of splitting: image, or a field such as experiment or well.")
    var splitBy: String = "image"

    @Option(help: "Fraction of the non-test units (per class) for validation.")
    var valFraction: Double = 0.3

    @Option(help: "Without --test: fraction of units (per class) drawn for test.")
    var testFraction: Double = 0

    @Option(help: "Seed of the split.")
    var seed: UInt64 = 42

    @Flag(help: "Replace an existing patches file at --out.")
    var overwrite = false

    var options: TilesJob.Options {
        get throws {
            var o = TilesJob.Options(input: input, out: out)
            o.tiles = tiles
            o.labeling.fieldNames = fields.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
            o.labeling.labelField = labelField
            o.labeling.patterns = try label.map { rule in
                let parts = rule.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--label '\(rule)': expected CLASS=REGEX")
                }
                return (parts[0], parts[1])
            }
            o.labeling.csv = labels
            o.labeling.classes = classes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            o.only = try only.map { text in
                guard let s = FieldSelection(text) else { throw ValidationError("--only '\(text)': expected FIELD=V1,V2") }
                return s
            }
            if let test {
                guard let s = FieldSelection(test) else { throw ValidationError("--test '\(test)': expected FIELD=V1,V2") }
                o.test = s
            }
            o.splitBy = splitBy; o.valFraction = valFraction; o.testFraction = testFraction; o.seed = seed
            o.overwrite = overwrite
            return o
        }
    }

    func validate() throws {
        if let problem = try options.labeling.problem { throw ValidationError(problem) }
    }

    func run(on world: Communicator) throws {
        let console = Console("tiles", world: world)
        try TilesJob.run(try options, world: world, log: console.log, warn: console.warn)
    }
}
