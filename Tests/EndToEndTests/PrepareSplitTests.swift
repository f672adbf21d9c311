import Imaging
import XCTest
@testable import Pipeline

/// Leakage proof for the split rules: whatever the unit (image, well, experiment), no unit — and no
/// coarser unit it belongs to when splitting coarsely — appears in two splits, including across appends.
final class PrepareSplitTests: XCTestCase {
    /// 4 experiments × 6 wells × 3 fields = 72 images, named like the real sample (`21b_b3.2_1`).
    let identities: [ImageIdentity] = {
        var out: [ImageIdentity] = []
        for e in ["21b", "22a", "24a", "24b"] {
            for w in ["b3", "d1", "d2", "f2", "h1", "h3"] {
                for f in 0..<3 { out.append(ImageNaming.identity(forStem: "\(e)_\(w).\(f)_1")) }
            }
        }
        return out
    }()

    func splitOf(_ images: [ImageIdentity], by: SplitBy, seed: UInt64,
                 existing: [String: PatchSplit] = [:]) -> [String: PatchSplit] {
        let plan = SplitPlanner.assign(keys: images.map { $0.splitKey(by) }, seed: seed, valFraction: 0.15,
                                       testFraction: 0.25, existing: existing)
        var perImage: [String: PatchSplit] = [:]
        for image in images { perImage[image.name] = plan[image.splitKey(by)]! }
        return perImage
    }

    /// Asserts that grouping images by `unit` never puts one unit into two splits.
    func assertNoLeak(_ perImage: [String: PatchSplit], unit: (ImageIdentity) -> String, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        var seen: [String: PatchSplit] = [:]
        for image in identities where perImage[image.name] != nil {
            let key = unit(image)
            if let earlier = seen[key] {
                XCTAssertEqual(earlier, perImage[image.name], "\(what) \(key) is in two splits", file: file, line: line)
            }
            seen[key] = perImage[image.name]
        }
    }

    func testNameParsingFindsExperimentWellAndField() {
        let id = ImageNaming.identity(forStem: "21b_b3.2_1")
        XCTAssertEqual([id.plate, id.well, id.field, id.group], ["21b", "B03", "2_1", "21b"])
        let synth = ImageNaming.identity(forStem: "plate01_B03_f05")
        XCTAssertEqual([synth.plate, synth.well, synth.field, synth.group], ["plate01", "B03", "5", "plate01"])
        XCTAssertEqual(ImageNaming.identity(forStem: "5_c6.3_1").well, "C06")
        // Names no well pattern parses: the loose fallback.
        let loose = ImageNaming.identity(forStem: "run7_b4-x_3")
        XCTAssertEqual([loose.plate, loose.well, loose.field, loose.group], ["run7", "B04", "x_3", "run7"])
        XCTAssertEqual(ImageNaming.identity(forStem: "noWellHere").well, "")
    }

    func testNoImageWellOrExperimentStraddlesSplits() {
        for seed: UInt64 in [0, 1, 42, 2026] {
            let byImage = splitOf(identities, by: .image, seed: seed)
            assertNoLeak(byImage, unit: { $0.name }, "image")
            let byWell = splitOf(identities, by: .well, seed: seed)
            assertNoLeak(byWell, unit: { $0.name }, "image")
            assertNoLeak(byWell, unit: { $0.group + "/" + $0.well }, "well")
            let byExperiment = splitOf(identities, by: .experiment, seed: seed)
            assertNoLeak(byExperiment, unit: { $0.group + "/" + $0.well }, "well")
            assertNoLeak(byExperiment, unit: { $0.group }, "experiment")
            // Every split is used, in proportion to the groups (24 wells: 6 test, 4 val, 14 train).
            let wellsPerSplit = PatchSplit.allCases.map { s in
                Set(identities.filter { byWell[$0.name] == s }.map { $0.group + "/" + $0.well }).count
            }
            XCTAssertEqual(wellsPerSplit, [14, 4, 6], "seed \(seed)")
            let experimentsPerSplit = PatchSplit.allCases.map { s in
                Set(identities.filter { byExperiment[$0.name] == s }.map(\.group)).count
            }
            XCTAssertEqual(experimentsPerSplit, [2, 1, 1], "4 experiments: each split gets at least one")
        }
    }

    func testSplitIsSeededAndIndependentOfInputOrder() {
        let a = splitOf(identities, by: .well, seed: 5)
        XCTAssertEqual(a, splitOf(identities.reversed(), by: .well, seed: 5))
        XCTAssertEqual(a, splitOf(identities.shuffled(), by: .well, seed: 5))
        XCTAssertNotEqual(a, splitOf(identities, by: .well, seed: 6))
    }

    func testAppendKeepsEarlierGroupsAndStaysLeakFree() {
        let first = Array(identities.prefix(30)), later = Array(identities.dropFirst(30))
        for by in SplitBy.allCases {
            let before = splitOf(first, by: by, seed: 3)
            var existing: [String: PatchSplit] = [:]
            for image in first { existing[image.splitKey(by)] = before[image.name]! }
            let after = splitOf(later, by: by, seed: 3, existing: existing)
            var combined = before
            for (k, v) in after { combined[k] = v }
            XCTAssertEqual(combined.count, identities.count)
            assertNoLeak(combined, unit: { $0.splitKey(by) }, "\(by) group")
            // Images appended to a group that was already present join that group's split.
            for image in later where existing[image.splitKey(by)] != nil {
                XCTAssertEqual(after[image.name], existing[image.splitKey(by)])
            }
        }
    }

    func testFewGroupsAreNotForcedIntoEmptySplits() {
        let two = [ImageNaming.identity(forStem: "a_b1.0_0"), ImageNaming.identity(forStem: "b_b1.0_0")]
        let plan = SplitPlanner.assign(keys: two.map { $0.splitKey(.experiment) }, seed: 1, valFraction: 0.1, testFraction: 0.2)
        XCTAssertEqual(Set(plan.values), [.train])
        let three = two + [ImageNaming.identity(forStem: "c_b1.0_0")]
        let plan3 = SplitPlanner.assign(keys: three.map { $0.splitKey(.experiment) }, seed: 1, valFraction: 0.1, testFraction: 0.2)
        XCTAssertEqual(plan3.values.sorted { $0.rawValue < $1.rawValue }, [.train, .val, .test])
    }

    /// Folds 0…4 of one seed: every image is test in exactly one fold, test chunks differ in size by at
    /// most one, val never overlaps test, and each fold keeps a training split.
    func testCrossValidationFoldsTestEveryGroupExactlyOnce() {
        let keys = (0..<27).map { "img\($0)" }
        var testedIn: [String: Int] = [:]
        var sizes: [Int] = []
        for k in 0..<5 {
            let plan = SplitPlanner.assign(keys: keys, seed: 7, valFraction: 0.15, testFraction: 0,
                                           fold: CrossValidationFold(count: 5, index: k))
            XCTAssertEqual(plan.count, 27)
            let test = plan.filter { $0.value == .test }.map(\.key)
            for key in test { testedIn[key, default: 0] += 1 }
            sizes.append(test.count)
            XCTAssertEqual(plan.values.filter { $0 == .val }.count, 4, "fold \(k): round(27 × 0.15) val images")
            XCTAssertGreaterThan(plan.values.filter { $0 == .train }.count, 15)
            let again = SplitPlanner.assign(keys: keys.reversed(), seed: 7, valFraction: 0.15, testFraction: 0,
                                            fold: CrossValidationFold(count: 5, index: k))
            XCTAssertEqual(plan, again, "fold \(k) must not depend on input order")
        }
        XCTAssertEqual(testedIn.count, 27)
        XCTAssertTrue(testedIn.values.allSatisfy { $0 == 1 }, "\(testedIn)")
        XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "\(sizes)")
    }
}
