import ArgumentParser
import Imaging

/// How nuclei are found: shared by every verb that segments (segment, prepare, and screen).
struct SegmentationOptions: ParsableArguments {
    @Option(name: [.customLong("segmentation"), .customLong("config")],
            help: "Segmentation YAML (e.g. config/segmentation.yaml); its label_radius is the default label radius. Default: built-in settings, identical to config/segmentation.yaml. (--config is the old name, kept for now.)")
    var segmentation: String?

    @Option(help: "Marker type → class map YAML (`types: {1: non-NETotic, 2: NETotic, 4: other, 5: other}`). Default: config/annotations.yaml's map.")
    var classMap: String?

    func settings() throws -> SegmentationConfig { try segmentation.map { try SegmentationConfig.load($0) } ?? .standard }
    func classes() throws -> ClassMap { try classMap.map { try ClassMap.load($0) } ?? .standard }
}
