import Analysis
import ArgumentParser
import Cluster
import Foundation
import Imaging
import Pipeline

struct Prepare: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment annotated images, cut labelled 112×112 patches, split without leakage, write patches.h5.",
        discussion: """
        Pairs every image (.tif/.tiff, searched recursively) with its annotation file: Fiji Cell Counter \
        `CellCounter_<stem>.xml` (the image named in Image_Filename) or a points CSV (x,y,type[,image]); \
        a well stored as fields is assembled when its annotation names the well. Each object found by \
        segmentation becomes a patch labelled by the nearest marker within the label radius; objects \
        near a marker that labelled another object are dropped (--ambiguous), objects far from every \
        marker become class 0 "other" (--unmatched). Whole images, wells or experiment groups go to \
        train/val/test, so no group straddles two splits. Bad files are reported one line each and \
        skipped. With --append, new images are added to an existing file (on a copy that replaces it only when \
        complete, so an interrupted append leaves the file as it was); groups already in it keep \
        their split. Under mpirun, images are shared over ranks and rank 0 writes; the output is the \
        same for any rank count. See docs/prepare.md.
        """)

    @Option(help: "Folder of images (.tif/.tiff), searched recursively.")
    var images: String

    @Option(help: "Folder of annotation files (Cell Counter .xml or points .csv).")
    var annotations: String

    @Option(help: "Output patches.h5.")
    var out: String

    @Option(help: "Leakage unit: image, well or experiment (default image; when appending, the file's).")
    var splitBy: SplitBy?

    @Option(help: "Seed for the split and point-mode negatives, any whole number 0…2^64-1 (default 0; when appending, the file's).")
    var seed: UInt64?

    @Option(help: "Fraction of groups for validation, 0 ≤ f < 1 (default 0.1; when appending, the file's).")
    var valFraction: Double?

    @Option(help: "Fraction of groups for test, 0 ≤ f < 1, with validation + test < 1 (default 0.2; when appending, the file's).")
    var testFraction: Double?

    @Option(help: "Cross-validation by group: cut the groups into this many folds (2…100) and make fold --fold the test split (replaces --test-fraction).")
    var folds: Int?

    @Option(help: "Which fold is test, 0…folds-1 (with --folds).")
    var fold: Int?

    @Option(help: "segment: patches at segmented objects (default); point: at markers plus random negatives (reference code).")
    var mode: PatchMode?

    @OptionGroup(title: "Segmentation")
    var segmentation: SegmentationOptions

    @Option(help: "Label radius in pixels, > 0 and ≤ 1000 (overrides the segmentation config's label_radius).")
    var labelRadius: Double?

    @Option(help: "Objects with no marker within the label radius: other (class 0) or drop.")
    var unmatched: PatchConfig.Unmatched = .other

    @Option(help: "Objects no marker picked although one lies within the radius (e.g. a lobe split off an annotated nucleus): drop or other.")
    var ambiguous: PatchConfig.Unmatched = .drop

    @Option(help: "Point mode: random negatives per image; 0…10000.")
    var negatives: Int = 10

    @Option(help: "Wells YAML (config/wells.yaml): name patterns giving plate, well, experiment and field, and the field grid for wells stored as fields. Default: built-in.")
    var wellsConfig: String?

    @Option(help: "Patch side in pixels, 8…1024 (the model input is 112).")
    var patchSize: Int = 112

    @Option(help: ArgumentHelp("Label by treatment instead of marker class (the paper's phenotype and necrosis CNNs): platemap:agonist labels each nucleus by its well's agonist in --platemap.", valueName: "platemap:agonist"))
    var labelBy: String?

    @Option(help: "With --label-by: the plate-map CSV (plate,well,agonist,…; as synth writes).")
    var platemap: String?

    @Option(help: ArgumentHelp("With --label-by: the classes, agonists in label order (e.g. PMA,A23187 or A23187,freeze). Default: every agonist of the plate map.", valueName: "a,b,…"))
    var classes: String?

    @Option(help: ArgumentHelp("With --label-by: marker types whose nuclei are labelled (2 NETotic; synth's necrotic nuclei are type 3).", valueName: "t,…"))
    var labelTypes: String = "2"

    @Flag(help: "Add images to an existing file (images already in it are skipped).")
    var append = false

    @Flag(help: "Replace an existing file.")
    var overwrite = false

    @Flag(help: "One line per image: split, objects, markers matched, patches per class, seconds.")
    var verbose = false

    func validate() throws {
        if append && overwrite { throw ValidationError("--append and --overwrite exclude each other") }
        for (flag, value) in [("--val-fraction", valFraction), ("--test-fraction", testFraction)] {
            if let value, !(0..<1).contains(value) { throw ValidationError("\(flag) must be ≥ 0 and < 1 (got \(value))") }
        }
        if let valFraction, let testFraction, valFraction + testFraction >= 1 {
            throw ValidationError("--val-fraction + --test-fraction must be < 1 (got \(valFraction) + \(testFraction))")
        }
        switch (folds, fold) {
        case (nil, nil): break
        case (.some(let folds), .some(let fold)):
            guard (2...100).contains(folds) else { throw ValidationError("--folds must be 2…100 (got \(folds))") }
            guard (0..<folds).contains(fold) else { throw ValidationError("--fold must be 0…\(folds - 1) for --folds \(folds) (got \(fold))") }
            if testFraction != nil { throw ValidationError("--folds replaces --test-fraction: give one of them") }
            if append { throw ValidationError("--folds writes a new file per fold; it cannot be used with --append") }
        default: throw ValidationError("--folds and --fold go together (e.g. --folds 5 --fold 0)")
        }
        if let labelRadius, !(labelRadius > 0 && labelRadius <= 1000) {
            throw ValidationError("--label-radius must be > 0 and ≤ 1000 px (got \(labelRadius))")
        }
        try requireFlag("--patch-size", patchSize, in: 8...1024)
        try requireFlag("--negatives", negatives, in: 0...10_000)
        if let labelBy {
            guard labelBy == "platemap:agonist" else { throw ValidationError("--label-by '\(labelBy)': the one labelling by treatment is platemap:agonist") }
            guard platemap != nil else { throw ValidationError("--label-by platemap:agonist needs --platemap FILE") }
            if append { throw ValidationError("--label-by writes a new file; it cannot be used with --append") }
            _ = try markerTypes()
        } else if platemap != nil || classes != nil || labelTypes != "2" {
            throw ValidationError("--platemap, --classes and --label-types go with --label-by platemap:agonist")
        }
    }

    private func markerTypes() throws -> [Int] {
        let types = labelTypes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !types.isEmpty, types.allSatisfy({ $0 != nil && (0...1000).contains($0!) }) else {
            throw ValidationError("--label-types '\(labelTypes)': expected marker types 0…1000 separated by commas, e.g. 2 or 2,3")
        }
        return types.map { $0! }
    }

    /// The --label-by settings; the classes default to the plate map's agonists in order of appearance.
    private func agonistLabels() throws -> AgonistLabels? {
        guard labelBy != nil, let platemap else { return nil }
        var agonists = classes?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        if classes == nil {
            for entry in try PlateMap.read(platemap).entries where !agonists.contains(entry.agonist) { agonists.append(entry.agonist) }
        }
        return AgonistLabels(platemap: platemap, agonists: agonists, markerTypes: try markerTypes())
    }

    func run(on world: Communicator) throws {
        let wells = try wellsConfig.map { try WellConfig.load($0) } ?? .standard
        let patch = PatchConfig(patchSize: patchSize, unmatched: unmatched, ambiguous: ambiguous, negativesPerImage: negatives)
        var options = PrepareOptions(
            imagesDirectory: images, annotationsDirectory: annotations, output: out, splitBy: splitBy, seed: seed,
            valFraction: valFraction, testFraction: testFraction, mode: mode, labelRadius: labelRadius, patch: patch,
            segmentation: try segmentation.settings(), classMap: try segmentation.classes(), wells: wells,
            append: append, overwrite: overwrite, verbose: verbose)
        options.labelBy = try agonistLabels()
        options.fold = folds.flatMap { count in fold.map { CrossValidationFold(count: count, index: $0) } }
        let console = Console("prepare", world: world)
        _ = try PrepareJob.run(options, world: world, log: console.log, warn: console.warn, progress: console.progress)
    }
}

extension SplitBy: ExpressibleByArgument {}
extension PatchMode: ExpressibleByArgument {}
extension PatchConfig.Unmatched: ExpressibleByArgument {}
