import Foundation
import Storage
import XCTest

/// The one converter from decoding and YAML errors to "line L, column C: key: problem".
final class ConfigFileTests: XCTestCase {
    enum Shade: String, ConfigChoice { case light, dark }

    struct Settings: Decodable {
        var shade: Shade?
        var count: Int?
        var scale: Double?
        var items: [Item]?
        struct Item: Decodable { var size: Int }
        enum CodingKeys: String, CodingKey, CaseIterable { case shade, count, scale, items }
        init(from decoder: Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            shade = try c.decodeIfPresent(Shade.self, forKey: .shade)
            count = try c.decodeIfPresent(Int.self, forKey: .count)
            scale = try c.decodeFiniteIfPresent(.scale)
            items = try c.decodeIfPresent([Item].self, forKey: .items)
            if let count, count > 10 { throw c.problem(.count, "must be 0…10 (got \(count))") }
        }
    }

    func problem(_ yaml: String) -> String {
        do {
            _ = try ConfigFile.decode(Settings.self, yaml: yaml, source: "s.yaml")
            return "no error"
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("s.yaml: "), text)
            XCTAssertFalse(text.contains("\n"), text)
            return String(text.dropFirst("s.yaml: ".count))
        }
    }

    func testEachKindOfProblemGetsItsPlace() {
        XCTAssertEqual(problem("count: 1\nshade: grey\n"), "line 2, column 1: shade: 'grey' is not one of light, dark")
        XCTAssertEqual(problem("count: many\n"), "line 1, column 1: count: expected a whole number, found 'many'")
        XCTAssertEqual(problem("count: 2\n  # c\ncolour: 1\n"), "line 3, column 1: colour: unknown key (known: count, items, scale, shade)")
        XCTAssertEqual(problem("scale: .inf\n"), "line 1, column 1: scale: inf is not a finite number")
        XCTAssertEqual(problem("scale: nan\n"), "line 1, column 1: scale: nan is not a finite number")
        XCTAssertEqual(problem("count: 11\n"), "line 1, column 1: count: must be 0…10 (got 11)")
        XCTAssertEqual(problem("items:\n  - size: 1\n  - size: big\n"),
                       "line 3, column 5: items[1].size: expected a whole number, found 'big'")
        XCTAssertEqual(problem("items:\n  - {}\n"), "line 2, column 5: items[0]: missing key 'size'")
        XCTAssertEqual(problem("items: 3\n"), "line 1, column 1: items: expected a list, found '3'")
        XCTAssertEqual(problem("- a\n- b\n"), "expected a mapping (key: value lines), found a list")
        XCTAssertEqual(problem(""), "is empty (expected YAML settings: key: value lines)")
        XCTAssertTrue(problem("count: [1\n").hasPrefix("line 2, column 1: not valid YAML: "), problem("count: [1\n"))
        XCTAssertEqual(problem("count: 3\n"), "no error")
    }

    func testFileProblemsInPlainWords() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("config-file-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertThrowsError(try ConfigFile.read(folder + "/none.yaml")) {
            XCTAssertEqual("\($0)", folder + "/none.yaml: no such file")
        }
        XCTAssertThrowsError(try ConfigFile.read(folder)) { XCTAssertEqual("\($0)", folder + ": is a folder, not a file") }
        XCTAssertEqual(FileProblem.reason(NSError(domain: NSCocoaErrorDomain, code: NSFileWriteNoPermissionError)), "permission denied")
        XCTAssertEqual(FileProblem.reason(NSError(domain: NSCocoaErrorDomain, code: NSFileNoSuchFileError)), "no such file")
        XCTAssertEqual(FileProblem.describe(NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC)), path: "o.h5"),
                       "o.h5: no space left on the disk")
    }
}
