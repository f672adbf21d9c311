import Foundation
import Imaging
import XCTest

/// Acceptance checks on real data (../shared/data; fail loudly under CI when it is missing).
/// All run with the shipped defaults: config/segmentation.yaml, which must equal the built-in ones.
final class SegmentationAcceptanceTests: XCTestCase {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The defaults everyone uses: the shipped file, checked against the library's built-in values.
    func shippedConfig() throws -> SegmentationConfig {
        let path = Self.repoRoot.appendingPathComponent("config/segmentation.yaml").path
        let config = try SegmentationConfig.load(path)
        XCTAssertEqual(config, .standard, "config/segmentation.yaml and SegmentationConfig.standard disagree")
        return config
    }

    /// Issue 4: on the 27 real fields, ≥ 95% of type-1 and type-2 markers lie on or within label_radius of
    /// an object, and ≤ 2% of matched objects absorb two or more markers.
    func testRealSampleMarkerCoverage() throws {
        let config = try shippedConfig()
        let fields = try SegTestData.netosisSample()
        XCTAssertEqual(fields.count, 27)
        let segmenter = Segmenter(config: config)
        var total = MarkerCoverage()
        var byType: [Int: MarkerCoverage] = [:]
        var lines: [String] = []
        for f in fields {
            let seg = segmenter.segment(f.image)
            let markers = f.annotations.markers.filter { $0.type == 1 || $0.type == 2 }
            let c = MarkerCoverage.measure(seg, markers: markers, radius: config.labelRadius)
            total.add(c)
            for t in [1, 2] {
                byType[t, default: MarkerCoverage()].add(
                    MarkerCoverage.measure(seg, markers: markers.filter { $0.type == t }, radius: config.labelRadius))
            }
            lines.append(String(format: "  %@: %d objects, %d/%d markers covered, %d multi-marker objects",
                                f.stem, seg.nuclei.count, c.covered, c.markers, c.multiObjects))
        }
        let radii: [Double] = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15]
        let cumulative = total.cumulative(at: radii)
        print(lines.joined(separator: "\n"))
        print(String(format: "netosis-sample: coverage %.2f%% (%d/%d) at label_radius %.0f; multi-marker objects %.2f%% (%d/%d)",
                     100 * total.coverage, total.covered, total.markers, config.labelRadius,
                     100 * total.multiFraction, total.multiObjects, total.matchedObjects))
        print(String(format: "  type 1 (non-NETotic) %.2f%%, type 2 (NETotic) %.2f%%",
                     100 * byType[1]!.coverage, 100 * byType[2]!.coverage))
        print("  markers within r of an object: " + zip(radii, cumulative).map { String(format: "r≤%.0f %.2f%%", $0, 100 * $1) }
            .joined(separator: ", "))
        XCTAssertGreaterThan(total.markers, 2900, "expected the sample's ~3000 type-1/2 markers")
        XCTAssertGreaterThanOrEqual(total.coverage, 0.95)
        XCTAssertLessThanOrEqual(total.multiFraction, 0.02)
        // The radius must sit on the plateau: widening it by half again adds almost nothing.
        let atRadius = total.cumulative(at: [config.labelRadius])[0]
        let wider = total.cumulative(at: [config.labelRadius * 1.5])[0]
        XCTAssertLessThan(wider - atRadius, 0.005, "label_radius is below the plateau of the distance distribution")
    }

    /// The plain-Otsu baseline (no background correction, hysteresis or splitting) on the same fields:
    /// the defaults must beat it on coverage of markers that lie on an object (radius 0)
    /// and on multi-marker objects. Guards the value of each added stage.
    func testDefaultsBeatPlainOtsu() throws {
        let fields = try SegTestData.netosisSample()
        var plain = SegmentationConfig.standard
        plain.background = .none; plain.smoothingSigma = 0; plain.hysteresisLow = 1
        plain.openingRadius = 0; plain.closingRadius = 0; plain.fillHoles = false; plain.watershed = false
        plain.contrastRatio = 0; plain.minArea = 1; plain.minObjectArea = 1
        var a = MarkerCoverage(), b = MarkerCoverage()
        for f in fields {
            let markers = f.annotations.markers.filter { $0.type == 1 || $0.type == 2 }
            a.add(MarkerCoverage.measure(Segmenter(config: plain).segment(f.image), markers: markers, radius: 0))
            b.add(MarkerCoverage.measure(Segmenter().segment(f.image), markers: markers, radius: 0))
        }
        print(String(format: "plain Otsu: on-object %.2f%%, multi %.2f%%; defaults: on-object %.2f%%, multi %.2f%%",
                     100 * a.coverage, 100 * a.multiFraction, 100 * b.coverage, 100 * b.multiFraction))
        XCTAssertGreaterThan(b.coverage, a.coverage)
        XCTAssertLessThan(b.multiFraction, a.multiFraction)
    }

    /// Issue 4: DSB 2018 fluorescence subset — object F1 at IoU ≥ 0.5 and count error per image;
    /// mean F1 ≥ 0.80 with the same defaults.
    func testDSBObjectF1AndCountError() throws {
        let config = try shippedConfig()
        let images = try SegTestData.dsbSubset()
        XCTAssertEqual(images.count, 38)
        let segmenter = Segmenter(config: config)
        var f1s: [Double] = []
        var groups: [String: [(f1: Double, countError: Double)]] = [:]
        var lines: [String] = []
        for d in images {
            let seg = segmenter.segment(d.image)
            let score = DetectionScore.measure(predicted: seg.labels, predictedCount: seg.nuclei.count, truth: d.truth)
            XCTAssertEqual(score.truth, d.count, "\(d.name): label image and images.csv disagree")
            let countError = Double(seg.nuclei.count - d.count) / Double(d.count)
            f1s.append(score.f1)
            groups[d.group, default: []].append((score.f1, countError))
            lines.append(String(format: "  %@ (%@): truth %d, found %d (count error %+.1f%%), F1 %.3f (P %.3f, R %.3f)",
                                d.name, d.group, d.count, seg.nuclei.count, 100 * countError, score.f1, score.precision, score.recall))
        }
        let mean = f1s.reduce(0, +) / Double(f1s.count)
        print(lines.joined(separator: "\n"))
        for (g, list) in groups.sorted(by: { $0.key < $1.key }) {
            let f = list.map(\.f1).reduce(0, +) / Double(list.count)
            let e = list.map { abs($0.countError) }.reduce(0, +) / Double(list.count)
            print(String(format: "  group %@: %d images, mean F1 %.3f, mean |count error| %.1f%%", g, list.count, f, 100 * e))
        }
        print(String(format: "dsb2018-fluo-subset: mean F1 %.3f over %d images", mean, f1s.count))
        XCTAssertGreaterThanOrEqual(mean, 0.80)
    }
}
