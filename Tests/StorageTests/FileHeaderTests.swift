import Storage
import TestSupport
import XCTest

/// The header every netosis file carries, and the one-line refusals of files of another kind or version.
final class FileHeaderTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("header") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    let widgets = FileFormat(name: "netosis.widgets", version: 3, oldestReadable: 2, madeBy: "netosis widgets")

    func file(format: String?, version: Int32?) throws -> String {
        let p = path("\(format ?? "none")-\(version ?? -1).h5")
        let f = try HDF5File.create(p)
        if let format { try f.setAttribute("format", format) }
        if let version { try f.setAttribute("format_version", version) }
        try f.flush()
        return p
    }

    func refusal(_ p: String) -> String {
        do { _ = try FileHeader.open(p, expecting: widgets); return "accepted" } catch { return "\(error)" }
    }

    func testWriteThenReadRoundTrips() throws {
        let p = path("ok.h5")
        let written = FileHeader(widgets, config: #"{"a":1}"#)
        do { let f = try HDF5File.create(p); try written.write(to: f) }
        let (_, read) = try FileHeader.open(p, expecting: widgets)
        XCTAssertEqual(read, written)
        XCTAssertEqual(read.formatVersion, 3)
        XCTAssertEqual(read.toolVersion, ToolVersion.string)
        XCTAssertTrue(ToolVersion.string.hasPrefix(ToolVersion.release + "+"), ToolVersion.string)
        XCTAssertFalse(ToolVersion.commit.isEmpty)
        XCTAssertNotNil(ISO8601DateFormatter().date(from: read.created), read.created)
    }

    func testOlderAdditiveVersionIsRead() throws {
        let p = try file(format: "netosis.widgets", version: 2)
        let (_, header) = try FileHeader.open(p, expecting: widgets)
        XCTAssertEqual(header.formatVersion, 2)
        XCTAssertEqual(header.toolVersion, "")  // missing provenance reads as empty, not as an error
    }

    func testRefusalsNameTheFileWhatWasFoundAndWhatToDo() throws {
        let wrong = try file(format: "netosis.gadgets", version: 3)
        XCTAssertEqual(refusal(wrong), "\(wrong): is a netosis.gadgets file, expected a netosis.widgets file (make one with `netosis widgets`)")
        let newer = try file(format: "netosis.widgets", version: 4)
        XCTAssertEqual(refusal(newer), "\(newer): netosis.widgets format_version 4 is newer than this netosis (\(ToolVersion.string)) reads (up to 3); use the netosis that wrote it, or a newer one")
        let older = try file(format: "netosis.widgets", version: 1)
        XCTAssertEqual(refusal(older), "\(older): netosis.widgets format_version 1 is older than this netosis reads (from 2); re-create it with `netosis widgets`")
        let unlabelled = try file(format: nil, version: nil)
        XCTAssertEqual(refusal(unlabelled), "\(unlabelled): not a netosis file (no 'format' attribute); expected a netosis.widgets file (make one with `netosis widgets`)")
        let versionless = try file(format: "netosis.widgets", version: nil)
        XCTAssertEqual(refusal(versionless), "\(versionless): netosis.widgets file without an integer 'format_version' attribute; make one with `netosis widgets`")
        XCTAssertEqual(refusal(path("missing.h5")), "\(path("missing.h5")): no such file")
        let text = path("notes.h5")
        try Data("not HDF5".utf8).write(to: URL(fileURLWithPath: text))
        let message = refusal(text)
        XCTAssertTrue(message.hasPrefix("\(text): not a readable HDF5 file; expected a netosis.widgets file"), message)
        for m in [refusal(wrong), refusal(newer), refusal(older)] { XCTAssertFalse(m.contains("\n"), m) }
    }
}
