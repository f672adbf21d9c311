import Foundation
import Imaging

/// Segments one image file and, when annotations are given, measures marker coverage.
/// Never throws: an unreadable image comes back as a failed record naming the file and the problem.
enum SegmentOne {
    struct Outcome: Codable, Sendable {
        var image: SegmentedImage
        var coverage: MarkerCoverage?
        /// Problems worth a warning line (e.g. markers outside the image), each naming its file.
        var warnings: [String]
    }

    static func run(_ path: String, segmenter: Segmenter, annotations: AnnotationSet? = nil,
                    coverageTypes: Set<Int>, memory: ImageMemory? = nil) -> Outcome {
        let start = Date(), cpuStart = SegmentedImage.threadCPUTime()
        do {
            try memory?.check(path)
            let image = try TIFFReader.read(path)
            let seg = segmenter.segment(image)
            let record = SegmentedImage(path: path, status: "ok", error: "", width: image.width, height: image.height,
                                        seconds: Date().timeIntervalSince(start),
                                        cpuSeconds: SegmentedImage.threadCPUTime() - cpuStart, nuclei: seg.nuclei)
            guard let set = annotations else { return Outcome(image: record, coverage: nil, warnings: []) }
            let markers = set.markers.filter { coverageTypes.contains($0.type) }
            let cov = MarkerCoverage.measure(seg, markers: markers, radius: segmenter.config.labelRadius)
            let outsideAll = set.markers.filter { !($0.x >= 0 && $0.y >= 0 && $0.x < Double(image.width) && $0.y < Double(image.height)) }
            var warnings: [String] = []
            if let first = outsideAll.first {
                warnings.append("\(set.sourcePath): \(outsideAll.count) marker(s) outside the \(image.width)×\(image.height) image "
                                + "\((path as NSString).lastPathComponent) (first at x \(first.x), y \(first.y)); ignored")
            }
            return Outcome(image: record, coverage: cov, warnings: warnings)
        } catch {
            return Outcome(image: .failed(path, InputFiles.describe(error, path: path)), coverage: nil, warnings: [])
        }
    }
}
