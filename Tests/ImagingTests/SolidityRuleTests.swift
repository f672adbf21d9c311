import Foundation
import XCTest
@testable import Imaging

/// The rule baseline's threshold search and its file.
final class SolidityRuleTests: XCTestCase {
    func testBestThresholdSeparatesAndPicksTheDirection() throws {
        // NETotic below 0.8, non-NETotic above: a perfect cut between 0.78 and 0.82.
        let samples: [(solidity: Double, netotic: Bool)] = [(0.6, true), (0.7, true), (0.78, true), (0.82, false), (0.9, false), (0.95, false)]
        let best = try XCTUnwrap(SolidityRule.bestThreshold(samples))
        XCTAssertEqual(best.threshold, 0.80, accuracy: 1e-12)
        XCTAssertTrue(best.netoticBelow)
        XCTAssertEqual(best.balancedAccuracy, 1)
        // The other way round: NETotic above.
        let flipped = try XCTUnwrap(SolidityRule.bestThreshold(samples.map { ($0.solidity, !$0.netotic) }))
        XCTAssertEqual(flipped.threshold, 0.80, accuracy: 1e-12)
        XCTAssertFalse(flipped.netoticBelow)
    }

    /// Against a brute-force search over a fine grid (overlapping classes, ties in solidity).
    func testBestThresholdMatchesBruteForce() throws {
        var samples: [(solidity: Double, netotic: Bool)] = []
        for i in 0..<200 {
            let netotic = i % 3 == 0
            let s = (netotic ? 0.75 : 0.85) + 0.1 * sin(Double(i) * 1.7)
            samples.append(((s * 100).rounded() / 100, netotic))   // rounded: many ties
        }
        let best = try XCTUnwrap(SolidityRule.bestThreshold(samples))
        func score(_ t: Double, below: Bool) -> Double {
            let p = samples.filter(\.netotic), n = samples.filter { !$0.netotic }
            let tp = p.filter { ($0.solidity < t) == below }.count, tn = n.filter { ($0.solidity < t) != below }.count
            return 0.5 * (Double(tp) / Double(p.count) + Double(tn) / Double(n.count))
        }
        var brute = 0.0
        for k in 0...2000 { let t = 0.5 + Double(k) * 0.00025; brute = max(brute, score(t, below: true), score(t, below: false)) }
        XCTAssertEqual(best.balancedAccuracy, brute, accuracy: 1e-12)
        XCTAssertEqual(score(best.threshold, below: best.netoticBelow), best.balancedAccuracy, accuracy: 1e-12)
        XCTAssertNil(SolidityRule.bestThreshold(samples.filter(\.netotic)), "one class: nothing to calibrate")
    }

    func testClassifyAndFileRoundTrip() throws {
        let rule = SolidityRule(solidityThreshold: 0.83)
        var n = Nucleus(label: 1, centroidX: 0, centroidY: 0, minX: 0, minY: 0, maxX: 1, maxY: 1, area: 150,
                        meanIntensity: 1, maxIntensity: 1, solidity: 0.7, eccentricity: 0)
        XCTAssertEqual(rule.classify(n), 2)
        n.solidity = 0.9
        XCTAssertEqual(rule.classify(n), 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rule-\(UUID().uuidString).json").path
        defer { unlink(path) }
        try rule.json().write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SolidityRule.read(path), rule)
        XCTAssertTrue(SolidityRule.isRuleFile(path))
        try Data("{\"format\": \"netosis.rule\", \"formatVersion\": 1}".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SolidityRule.read(path)) { XCTAssert("\($0)".hasPrefix(path + ": is not a valid netosis.rule file"), "\($0)") }
        try Data("\u{89}HDF\r\n\u{1A}\n....".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SolidityRule.read(path)) { XCTAssert("\($0)".contains("not a netosis.rule file"), "\($0)") }
    }
}
