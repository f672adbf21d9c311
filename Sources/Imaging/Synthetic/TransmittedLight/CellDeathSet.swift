import Determinism
import Foundation

/// A synthetic celldeath set (`netosis synth-celldeath`): transmitted-light photographs of several
/// cell lines, untreated ("control") or an hour after a drug ("CPT"), over several experiments,
/// with known truth. File names encode what the method reads from them:
/// `LINE_TREATMENT_TIME_EXPERIMENT_NNN.png`, e.g. `cobble_CPT_1h_e2_003.png`.
public enum CellDeathSet {
    public struct Options: Codable, Sendable, Equatable {
        public var seed: UInt64 = 1
        /// Cell-line style names (`CellLineStyle.presets`).
        public var lines: [String] = CellLineStyle.presets.map(\.name)
        public var experiments: Int = 3
        /// Images per line, treatment and experiment.
        public var images: Int = 4
        public var width: Int = 640, height: Int = 480
        /// Fraction of a treated culture's cells that are altered (× the line's susceptibility): the
        /// difficulty knob, from trivial (0.5) to indistinguishable (0).
        public var altered: Double = 0.25
        /// SD of the lamp level between experiments (a fraction of its mean).
        public var illuminationSD: Double = 0.08
        public var time: String = "1h"
        public init() {}

        /// Why these options cannot make a set, or nil.
        public var problem: String? {
            if lines.isEmpty { return "--lines: no cell line given" }
            if let bad = lines.first(where: { CellLineStyle.preset(named: $0) == nil }) {
                return "--lines: unknown cell line '\(bad)' (known: \(CellLineStyle.presets.map(\.name).joined(separator: ", ")))"
            }
            if Set(lines).count != lines.count { return "--lines: a cell line is listed twice" }
            if !(1...20).contains(experiments) { return "--experiments must be 1…20 (got \(experiments))" }
            if !(1...500).contains(images) { return "--images must be 1…500 per line, treatment and experiment (got \(images))" }
            if !(32...4096).contains(width) || !(32...4096).contains(height) {
                return "--width/--height must be 32…4096 (got \(width)×\(height))"
            }
            if !(0...1).contains(altered) { return "--altered must be 0…1 (got \(altered))" }
            if !(0...0.3).contains(illuminationSD) { return "--illumination-sd must be 0…0.3 (got \(illuminationSD))" }
            if time.isEmpty || time.contains("_") || time.contains("/") { return "--time '\(time)': a file-name token without _ or /" }
            return nil
        }
    }

    public static let treatments = ["control", "CPT"]

    /// One image of the plan with its truth.
    public struct Image: Codable, Sendable, Equatable {
        public var file: String
        public var line: String
        public var treatment: String
        public var time: String
        public var experiment: String
        public var index: Int
        /// The fraction of cells drawn altered (expected; the rendered count is in `altered`).
        public var alteredFraction: Double
        public var cells = 0, altered = 0, rounded = 0
        public var illumination = 0.0
    }

    /// Every image in file order (line, treatment, experiment, index).
    public static func plan(_ o: Options) -> [Image] {
        var result: [Image] = []
        for line in o.lines {
            let style = CellLineStyle.preset(named: line)!
            for treatment in treatments {
                for e in 1...o.experiments {
                    for i in 1...o.images {
                        let experiment = "e\(e)"
                        let file = "\(line)_\(treatment)_\(o.time)_\(experiment)_\(String(format: "%03d", i)).png"
                        result.append(Image(file: file, line: line, treatment: treatment, time: o.time, experiment: experiment,
                                            index: i, alteredFraction: treatment == "control" ? 0 : o.altered * style.susceptibility))
                    }
                }
            }
        }
        return result
    }

    /// Experiment `e`'s acquisition (1-based): the same for every line and treatment of it.
    public static func acquisition(_ o: Options, experiment e: Int) -> TransmittedLightField.Acquisition {
        var random = SynthRandom(seed: o.seed, 0x4143_5155, UInt64(e))   // "ACQU"
        let level = 0.62 * max(0.5, 1 + o.illuminationSD * random.normal())
        let tint = [1.0, 0.96 + 0.02 * random.normal(), 0.88 + 0.03 * random.normal()]
        return .init(illumination: level, vignetting: random.uniform(0.1, 0.3), tint: tint)
    }

    /// Renders image `k` of the plan (depends only on the seed and the image, not on rank or order).
    public static func render(_ o: Options, _ image: Image) -> (RGBImage, Image) {
        // Keyed by the line's name, so adding a line to --lines does not change the others.
        let treatment = UInt64(treatments.firstIndex(of: image.treatment)!)
        let e = Int(image.experiment.dropFirst())!
        var random = SynthRandom(seed: o.seed, 0x4345_4C4C, StableHash.of(image.line), treatment, UInt64(e),
                                 UInt64(image.index))
        let acquisition = acquisition(o, experiment: e)
        let style = CellLineStyle.preset(named: image.line)!
        let rendered = TransmittedLightField.render(style: style, width: o.width, height: o.height, altered: image.alteredFraction,
                                                    acquisition: acquisition, random: &random)
        var truth = image
        truth.cells = rendered.cells; truth.altered = rendered.altered; truth.rounded = rendered.rounded
        truth.illumination = acquisition.illumination
        return (rendered.image, truth)
    }

    /// truth.csv: one row per image.
    public static func truthCSV(_ images: [Image]) -> String {
        var text = "file,line,treatment,time,experiment,cells,altered_cells,rounded_cells,altered_fraction,illumination\n"
        for i in images {
            text += "\(i.file),\(i.line),\(i.treatment),\(i.time),\(i.experiment),\(i.cells),\(i.altered),\(i.rounded),"
                + String(format: "%.4f,%.4f\n", i.alteredFraction, i.illumination)
        }
        return text
    }
}

