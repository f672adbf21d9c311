import Foundation
import Neural
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// `netosis maps` on bad input: the wrong kind of stage 1 is refused in one line naming the file; an
/// unreadable image is reported and left out while the rest are mapped; `train --task count` refuses
/// a patches file and `screen --method pl` a field of the wrong size (but counts an image of whole
/// fields field by field). Untrained networks: fast.
final class MapsInputTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("mapsinput") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testBadStageOneBadImagesAndWrongSizes() throws {
        let netosis = try productPath("netosis")
        func run(_ arguments: [String]) throws -> ProcessResult { try runProgram(netosis, arguments, timeout: 120) }
        XCTAssertEqual(try run(["synth", "--out", path("synth"), "--plates", "1", "--wells", "4", "--width", "96", "--height", "80", "--seed", "2"]).status, 0)
        let prepared = try run(["prepare", "--images", path("synth/images"), "--annotations", path("synth/annotations"), "--out", path("points.h5"),
                                "--mode", "point", "--patch-size", "32", "--negatives", "5"])
        XCTAssertEqual(prepared.status, 0, prepared.output)
        func save(_ yaml: String, _ name: String) throws -> String {
            let config = try SequentialConfig.parse(yaml: yaml)
            try WeightIO.save(try SequentialNet(config: config, seed: 1), to: path(name))
            return path(name)
        }
        let layers = "layers:\n  - conv: {filters: 4, kernel: 3}\n  - relu\n  - flatten\n  - dense: 3\n"
        let good = try save("architecture: sequential\nname: s1\ninput_size: 32\ninput_normalization: image\n" + layers, "s1.h5")
        let perPatch = try save("architecture: sequential\nname: s1p\ninput_size: 32\n" + layers, "s1p.h5")
        try WeightIO.save(try DenseNet(named: "densenet-tiny"), to: path("dense.h5"))

        var r = try run(["maps", "--stage1", perPatch, "--patches", path("points.h5"), "--out", path("m.h5")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("\(perPatch): model 's1p' takes 1-channel input normalised per patch"), r.output)
        r = try run(["maps", "--stage1", path("dense.h5"), "--patches", path("points.h5"), "--out", path("m.h5")])
        XCTAssertTrue(r.output.contains("\(path("dense.h5")): holds densenet"), r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("m.h5")))

        // One image truncated after prepare: reported by name, left out; the other three are mapped.
        let images = try FileManager.default.contentsOfDirectory(atPath: path("synth/images")).filter { $0.hasSuffix(".tif") }.sorted()
        XCTAssertEqual(images.count, 4)
        let victim = path("synth/images/" + images[1])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: victim))
        r = try run(["maps", "--stage1", good, "--patches", path("points.h5"), "--out", path("m.h5"), "--border", "reflect"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains(victim) && r.output.contains("left out of"), r.output)
        XCTAssertTrue(r.output.contains("3 image(s) → \(path("m.h5")) (80×96×3 maps"), r.output)
        let maps = try MapsDataset(path: path("m.h5"))
        XCTAssertEqual(maps.count, 3)
        XCTAssertFalse(maps.names.contains(String(images[1].dropLast(4))))
        // The truth counts came along: every map's counts are the image's markers of the two phenotypes.
        XCTAssertGreaterThan(maps.counts.reduce(0, +), 0)

        r = try run(["train", "--task", "count", "--data", path("points.h5"), "--out", path("t")])
        XCTAssertTrue(r.output.contains("is a patches file; --task count trains on the maps of `netosis maps`"), r.output)
        r = try run(["train", "--data", path("m.h5"), "--out", path("t")])
        XCTAssertTrue(r.output.contains("is a maps file (netosis.maps); train stage 2 on it with --task count"), r.output)

        // A stage 2 for other fields: the image is recorded as failed with both sizes it could take.
        let stage2 = try save("architecture: sequential\nname: s2\ninput_channels: 3\ninput_size: 60\ninput_width: 70\n"
                              + "layers:\n  - conv: {filters: 2, kernel: 3}\n  - relu\n  - globalsumpool\n  - dense: 2\n", "s2.h5")
        r = try run(["screen", "--method", "pl", "--checkpoint", good, "--stage2", stage2, "--input", path("synth/images"), "--out", path("r.h5")])
        XCTAssertEqual(r.status, 0, r.output)
        let results = try ResultsFile.read(path("r.h5")).results
        XCTAssertEqual(results.count, 4)
        let sized = try XCTUnwrap(results.first { $0.image.path.hasSuffix(images[0]) })
        XCTAssertEqual(sized.image.status, "failed")
        XCTAssertTrue(sized.image.error.contains("image is 96×80 px but stage 2") && sized.image.error.contains("70×60 px (maps --border reflect) or 101×91 px"),
                      sized.image.error)

        // A stage 2 for 48×40 fields counts the 96×80 images as 2×2 fields.
        let tiles = try save("architecture: sequential\nname: s2t\ninput_channels: 3\ninput_size: 40\ninput_width: 48\n"
                             + "layers:\n  - conv: {filters: 2, kernel: 3}\n  - relu\n  - globalsumpool\n  - dense: 2\n", "s2t.h5")
        r = try run(["screen", "--method", "pl", "--checkpoint", good, "--stage2", tiles, "--input", path("synth/images"), "--out", path("t.h5")])
        XCTAssertEqual(r.status, 0, r.output)
        let tiled = try ResultsFile.read(path("t.h5")).results
        XCTAssertEqual(tiled.filter { $0.image.status == "ok" }.count, 3, "\(tiled.map(\.image.error))")
    }
}
