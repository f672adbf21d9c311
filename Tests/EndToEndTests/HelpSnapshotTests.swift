import Foundation
import TestSupport
import XCTest

/// `netosis --help` and every verb's help, compared with the committed snapshots in
/// Fixtures/help/ (80 columns). A change in help text is a change users see: review the diff,
/// then refresh with `NETOSIS_UPDATE_HELP=1 swift test ... --filter HelpSnapshotTests`.
final class HelpSnapshotTests: XCTestCase {
    static let verbs = ["doctor", "segment", "synth", "synth-celldeath", "prepare", "tiles", "maps", "train", "evaluate", "calibrate-rule", "saliency", "infer", "screen", "counts", "export", "analyze", "report", "bench"]
    /// Subcommands of the verbs above (snapshot files name them with a dash: analyze-dose-response.txt).
    static let subcommands = ["analyze dose-response", "analyze clustering", "analyze cohort"]

    func testEveryVerbsHelpMatchesItsSnapshot() throws {
        let netosis = try productPath("netosis")
        let folder = repositoryRoot().appendingPathComponent("Tests/EndToEndTests/Fixtures/help")
        let update = ProcessInfo.processInfo.environment["NETOSIS_UPDATE_HELP"] == "1"
        if update { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        // The root help lists exactly these verbs (a new verb needs a snapshot).
        let root = try runProgram(netosis, ["--help"], environment: ["COLUMNS": "80"])
        let listed = root.output.components(separatedBy: "SUBCOMMANDS:").last!.split(separator: "\n")
            .compactMap { line -> String? in
                let t = line.trimmingCharacters(in: .whitespaces)
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = t.split(separator: " ").first else { return nil }
                return String(word)
            }
        XCTAssertEqual(listed.filter { $0 != "See" }, Self.verbs, root.output)

        for verb in [nil] + (Self.verbs + Self.subcommands).map(Optional.some) {
            let words = verb.map { $0.split(separator: " ").map(String.init) } ?? []
            let run = try runProgram(netosis, words + ["--help"], environment: ["COLUMNS": "80"])
            XCTAssertEqual(run.status, 0, run.output)
            let file = folder.appendingPathComponent("\(verb?.replacingOccurrences(of: " ", with: "-") ?? "netosis").txt")
            if update {
                try Data(run.output.utf8).write(to: file)
                continue
            }
            let expected = try String(contentsOf: file, encoding: .utf8)
            XCTAssertEqual(run.output, expected, "help of \(verb ?? "netosis") changed: review, then refresh (NETOSIS_UPDATE_HELP=1)")
            // Prose is reflowed by the parser, never broken by hand: no line of a paragraph ends
            // where the next starts in lower case unless it was wrapped at the width.
            let lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
            for (a, b) in zip(lines, lines.dropFirst()) where !a.hasPrefix(" ") && !b.hasPrefix(" ") && !a.isEmpty && !b.isEmpty {
                let widthLeft = 80 - a.count
                let nextWord = b.split(separator: " ").first.map(String.init) ?? ""
                XCTAssertLessThan(widthLeft, nextWord.count + 3,  // slack: the parser wraps a little early
                                  "\(verb ?? "netosis") help: line broken by hand before '\(nextWord)': \(a)")
            }
        }
    }
}
