import Foundation
import Imaging
import TestSupport
import XCTest
@testable import Pipeline

/// Issue 4 acceptance on synthetic plates (ground truth known): ≥ 98 % of true nuclei found by the
/// segmenter, and ≥ 99 % of patch labels from `prepare` agree with the truth. Prints the numbers.
final class PrepareSyntheticTests: XCTestCase {
    var work: URL!
    override func setUpWithError() throws { work = try makeTemporaryDirectory("prepare-synth") }
    override func tearDownWithError() throws { if let work { try? FileManager.default.removeItem(at: work) } }

    /// truth_nuclei.csv (docs/file-formats.md "Synthetic plate set"): columns by header name.
    func readTruth(_ path: String) throws -> [TruthObject] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = try XCTUnwrap(lines.first).split(separator: ",").map(String.init)
        func column(_ name: String) throws -> Int { try XCTUnwrap(header.firstIndex(of: name), "\(path) lacks column \(name)") }
        let (ci, xi, yi, ki, ri) = (try column("image"), try column("x"), try column("y"), try column("class"), try column("radius"))
        return try lines.dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let label = try XCTUnwrap(Int(f[ki]).flatMap(NucleusClass.init(rawValue:)), "class '\(f[ki])'")
            return TruthObject(image: f[ci], x: try XCTUnwrap(Double(f[xi])), y: try XCTUnwrap(Double(f[yi])),
                               label: label, radius: Double(f[ri]))
        }
    }

    func testSegmenterFindsTrueNucleiAndPatchLabelsAgreeWithTruth() throws {
        let set = work.appendingPathComponent("synth").path
        let synth = try runProgram(try productPath("netosis"),
                                   ["synth", "--out", set, "--seed", "11", "--plates", "1", "--wells", "4"], timeout: 600)
        XCTAssertEqual(synth.status, 0, synth.output)
        let truth = try readTruth("\(set)/truth_nuclei.csv")
        XCTAssertGreaterThan(truth.count, 100)
        let radius = SegmentationConfig.standard.labelRadius

        // 1. Detection: every true nucleus (non-NETotic, NETotic) on or within label_radius of an object.
        var byImage: [String: [TruthObject]] = [:]
        for t in truth { byImage[t.image, default: []].append(t) }
        var detection = TruthCheck.Detection()
        let segmenter = Segmenter()
        for (image, objects) in byImage.sorted(by: { $0.key < $1.key }) {
            let d = TruthCheck.detection(segmentation: segmenter.segment(try TIFFReader.read("\(set)/images/\(image).tif")),
                                         truth: objects, radius: radius)
            print(String(format: "synthetic %@: %d/%d true nuclei found (%.2f%%)", image, d.found, d.nuclei, 100 * d.fraction))
            detection.nuclei += d.nuclei; detection.found += d.found
        }

        // 2. prepare on the set, then compare every patch's label with the truth at its centre.
        let out = work.appendingPathComponent("patches.h5").path
        let summary = try PrepareJob.run(
            PrepareOptions(imagesDirectory: "\(set)/images", annotationsDirectory: "\(set)/annotations", output: out,
                           splitBy: .well, seed: 11),
            log: { _ in }, warn: { XCTFail("unexpected warning: \($0)") })
        XCTAssertEqual(summary.imagesWritten, byImage.count)
        let agreement = try TruthCheck.agreement(patchesFile: out, truth: truth, tolerance: radius)

        print(String(format: "SYNTHETIC ACCEPTANCE: %d true nuclei, %.2f%% found by the segmenter (need ≥ 98%%); "
                     + "%d patches, %.2f%% labels agree with truth (need ≥ 99%%); confusion truth×label %@",
                     detection.nuclei, 100 * detection.fraction, agreement.patches, 100 * agreement.fraction,
                     "\(agreement.confusion)"))
        XCTAssertGreaterThanOrEqual(detection.fraction, 0.98)
        XCTAssertGreaterThanOrEqual(agreement.fraction, 0.99)
        XCTAssertGreaterThan(agreement.confusion[2][2], 0, "NETotic patches present and right")
        XCTAssertGreaterThan(agreement.confusion[1][1], 0, "non-NETotic patches present and right")
    }
}
