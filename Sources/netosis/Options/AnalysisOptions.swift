import ArgumentParser

/// What every analysis (and the report) reads: results files, with the plate map joined onto them.
struct ResultsInput: ParsableArguments {
    @Option(parsing: .upToNextOption, help: "Results files (netosis.results), one or more.")
    var results: [String] = []

    @Option(help: "Plate-map CSV for results files (default: the one screen --platemap kept).")
    var platemap: String?
}

/// Wells too sparse to give a percentage are left out of the fits (and listed).
struct MinimumNuclei: ParsableArguments {
    @Option(help: "Leave out wells with fewer NETotic + non-NETotic nuclei than this; 1…1000000.")
    var minNuclei = 50

    func validate() throws {
        try requireFlag("--min-nuclei", minNuclei, in: 1...1_000_000)
    }
}

/// Where an analysis writes: a folder of its files, replaced only with --overwrite and only if netosis wrote them.
struct AnalysisOutput: ParsableArguments {
    @Option(help: "Output folder (created if missing).")
    var out: String

    @Flag(help: "Replace files an earlier analysis wrote in the folder (other files are never replaced).")
    var overwrite = false
}
