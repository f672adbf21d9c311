import Storage
import TestSupport
import XCTest

final class HDF5RoundTripTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("storage") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Every element type round-trips bit-exactly.
    func testTypedReadWriteAllTypes() throws {
        let file = try HDF5File.create(path("types.h5"))
        try file.write("f32", [Float(1.5), -0.25, .greatestFiniteMagnitude], shape: [3])
        try file.write("f64", [Double.pi, -1e300], shape: [2])
        try file.write("u8", [UInt8(0), 255], shape: [2])
        try file.write("u16", [UInt16(0), 65535, 4096], shape: [3])
        try file.write("i8", [Int8(-128), 127], shape: [2])
        try file.write("i32", [Int32.min, Int32.max], shape: [2])
        try file.write("i64", [Int64.min, Int64.max], shape: [2])
        let reopened = try HDF5File.open(path("types.h5"))
        XCTAssertEqual(try reopened.read("f32", as: Float.self), [1.5, -0.25, .greatestFiniteMagnitude])
        XCTAssertEqual(try reopened.read("f64", as: Double.self), [Double.pi, -1e300])
        XCTAssertEqual(try reopened.read("u8", as: UInt8.self), [0, 255])
        XCTAssertEqual(try reopened.read("u16", as: UInt16.self), [0, 65535, 4096])
        XCTAssertEqual(try reopened.read("i8", as: Int8.self), [-128, 127])
        XCTAssertEqual(try reopened.read("i32", as: Int32.self), [Int32.min, Int32.max])
        XCTAssertEqual(try reopened.read("i64", as: Int64.self), [Int64.min, Int64.max])
        // HDF5 converts on read: stored uint16 comes back as Float.
        XCTAssertEqual(try reopened.read("u16", as: Float.self), [0, 65535, 4096])
    }

    /// The patches.h5 pattern: an appendable, chunked, compressed stack read one patch at a time.
    func testAppendHyperslabAndAttributesAlsoCheckedWithH5dump() throws {
        try writeStack()
        try checkStack()
        try checkStackWithH5dump()  // after every handle is released: HDF5 ≥1.10.7 locks open files
    }

    func writeStack() throws {
        let file = try HDF5File.create(path("stack.h5"))
        try file.setAttribute("format", "netosis.test")
        try file.setAttribute("format_version", Int32(1))
        try file.setAttribute("config", #"{"note":"µm ✓"}"#)
        let patches = try file.createDataset("patches", of: UInt16.self, shape: [0, 8, 8],
                                             options: .appendable(rowShape: [8, 8], chunkRows: 1, deflate: 4))
        let labels = try file.createDataset("labels", of: Int8.self, shape: [0], options: .appendable())
        let names = try file.createGroup("images").createStringDataset("name", shape: [0], options: .appendable(deflate: nil))
        for batch in 0..<3 {  // three appends of 2, 3, 4 patches
            let n = batch + 2
            let first = [0, 2, 5][batch]
            try patches.append((first..<first + n).flatMap { p in (0..<64).map { UInt16(p * 100 + $0) } })
            try labels.append((first..<first + n).map { Int8($0 % 3) })
            try names.appendStrings((first..<first + n).map { "well-\($0)-µ" })
        }
        try patches.setAttribute("patch_size", Int32(8))
        try file.flush()
    }

    func checkStack() throws {
        let reopened = try HDF5File.open(path("stack.h5"))
        let stack = try reopened.dataset("patches")
        XCTAssertEqual(try stack.shape(), [9, 8, 8])
        XCTAssertEqual(try stack.chunkShape(), [1, 8, 8])
        XCTAssertEqual(try stack.filters(), ["shuffle", "deflate"])
        // Patch 6 alone, via hyperslab.
        let six: [UInt16] = try stack.read(offset: [6, 0, 0], count: [1, 8, 8])
        XCTAssertEqual(six, (0..<64).map { UInt16(600 + $0) })
        // A sub-block across patches: rows 2..3, columns 5..6 of patches 3 and 4.
        let block: [UInt16] = try stack.read(offset: [3, 2, 5], count: [2, 2, 2])
        XCTAssertEqual(block, [321, 322, 329, 330, 421, 422, 429, 430])
        XCTAssertEqual(try reopened.read("labels", as: Int8.self), (0..<9).map { Int8($0 % 3) })
        XCTAssertEqual(try reopened.group("images").dataset("name").readStrings(), (0..<9).map { "well-\($0)-µ" })
        XCTAssertEqual(try reopened.stringAttribute("config"), #"{"note":"µm ✓"}"#)
        XCTAssertEqual(try reopened.attribute("format_version", as: Int32.self), 1)
        XCTAssertEqual(try stack.attribute("patch_size", as: Int32.self), 8)
        XCTAssertEqual(Set(try reopened.attributeNames()), ["format", "format_version", "config"])
        XCTAssertEqual(try reopened.children(), ["images", "labels", "patches"])
        XCTAssertTrue(reopened.exists("images/name"))
        XCTAssertFalse(reopened.exists("images/nope"))
    }

    func checkStackWithH5dump() throws {
        // An independent reader: the HDF5 command-line tools.
        guard let h5dump = which("h5dump") else { throw TestSetupError("h5dump not found: `make setup` installs hdf5-tools") }
        let header = try runProgram(h5dump, ["-H", "-p", path("stack.h5")])
        XCTAssertEqual(header.status, 0, header.output)
        XCTAssertTrue(header.output.contains("DATASPACE  SIMPLE { ( 9, 8, 8 ) / ( H5S_UNLIMITED, 8, 8 ) }"), header.output)
        XCTAssertTrue(header.output.contains("CHUNKED ( 1, 8, 8 )"), header.output)
        XCTAssertTrue(header.output.contains("SHUFFLE"), header.output)
        XCTAssertTrue(header.output.contains("DEFLATE"), header.output)
        XCTAssertTrue(header.output.contains("H5T_STD_U16LE"), header.output)
        XCTAssertTrue(header.output.contains("CSET H5T_CSET_UTF8"), header.output)
        let values = try runProgram(h5dump, ["-d", "/patches[8,0,0;;1,1,4]", path("stack.h5")])
        XCTAssertTrue(values.output.contains("800, 801, 802, 803"), values.output)
        let attribute = try runProgram(h5dump, ["-a", "/format", path("stack.h5")])
        XCTAssertTrue(attribute.output.contains("\"netosis.test\""), attribute.output)
    }

    func testOverwriteAttributeAndWriteBlock() throws {
        let file = try HDF5File.create(path("block.h5"))
        let grid = try file.createDataset("grid", of: Float.self, shape: [4, 5])
        try grid.write([Float](repeating: 0, count: 20))
        try grid.write([1, 2, 3, 4], offset: [1, 2], count: [2, 2])
        XCTAssertEqual(try grid.read(as: Float.self), [0, 0, 0, 0, 0,  0, 0, 1, 2, 0,  0, 0, 3, 4, 0,  0, 0, 0, 0, 0])
        try grid.setAttribute("epoch", Int64(1))
        try grid.setAttribute("epoch", Int64(2))
        XCTAssertEqual(try grid.attribute("epoch", as: Int64.self), 2)
        try grid.setAttribute("mean", [Float(0.5), 0.25])
        XCTAssertEqual(try grid.attributeArray("mean", as: Float.self), [0.5, 0.25])
    }

    // MARK: bad input

    func testMissingFileNamesPathAndProblem() {
        let missing = path("nope.h5")
        XCTAssertThrowsError(try HDF5File.open(missing)) { error in
            XCTAssertEqual("\(error)", "\(missing): open failed: no such file")
        }
    }

    func testNonHDF5FileIsRefusedWithOneLine() throws {
        let text = path("notes.h5")
        try "just some text\n".write(toFile: text, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HDF5File.open(text)) { error in
            let message = "\(error)"
            XCTAssertEqual(message, "\(text): open failed: not an HDF5 file (no HDF5 signature)")
            XCTAssertFalse(message.contains("\n"))
        }
        XCTAssertFalse(HDF5File.isHDF5(text))
    }

    func testErrorsCarryHDF5StackText() throws {
        let file = try HDF5File.create(path("errors.h5"))
        try file.write("x", [Float(1)], shape: [1])
        // Creating the same dataset twice: HDF5 refuses, and its reason reaches the message.
        XCTAssertThrowsError(try file.write("x", [Float(2)], shape: [1])) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("\(self.path("errors.h5")): create dataset 'x' failed: "), message)
            XCTAssertTrue(message.lowercased().contains("exist"), message)  // "name already exists"
        }
        XCTAssertThrowsError(try file.dataset("missing")) { XCTAssertTrue("\($0)".contains("no such object")) }
        // Out-of-range hyperslab.
        XCTAssertThrowsError(try file.dataset("x").read(offset: [1], count: [1], as: Float.self)) {
            XCTAssertTrue("\($0)".contains("outside the dataset's shape [1]"), "\($0)")
        }
        // Appending to a fixed-size dataset explains what is wrong.
        XCTAssertThrowsError(try file.dataset("x").append([Float(3)])) {
            XCTAssertTrue("\($0)".contains("unlimited first axis"), "\($0)")
        }
    }

    func testTruncatedFileFailsToOpenInsteadOfReadingGarbage() throws {
        let good = path("full.h5")
        do {
            let file = try HDF5File.create(good)
            try file.write("big", (0..<100_000).map { Float($0) }, shape: [100_000])
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = path("cut.h5")
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try { let f = try HDF5File.open(cut); _ = try f.read("big", as: Float.self) }()) { error in
            XCTAssertTrue("\(error)".hasPrefix(cut), "\(error)")
        }
    }

    // MARK: atomic writes

    func testAtomicWriteReplacesWholeOrNothing() throws {
        let target = path("ckpt.h5")
        try AtomicFile.write(to: target) { temporary in
            let file = try HDF5File.create(temporary)
            try file.write("w", [Float(1), 2], shape: [2])
        }
        XCTAssertEqual(try HDF5File.open(target).read("w", as: Float.self), [1, 2])

        struct Interrupted: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: target) { temporary in
            let file = try HDF5File.create(temporary)
            try file.write("w", [Float(9), 9], shape: [2])
            throw Interrupted()  // e.g. the job was killed mid-save
        })
        // The old file is intact and no temporary is left behind.
        XCTAssertEqual(try HDF5File.open(target).read("w", as: Float.self), [1, 2])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    func testChecksumDetectsCorruptChunk() throws {
        let target = path("sum.h5")
        let values = (0..<4096).map { Float($0) }
        do {
            let file = try HDF5File.create(target)
            try file.write("w", values, shape: [4096], options: DatasetOptions(chunk: [4096], checksum: true))
        }
        // Flip bytes inside the raw chunk (find it by its known float pattern).
        var data = try Data(contentsOf: URL(fileURLWithPath: target))
        let needle = values[1000..<1004].withUnsafeBytes { Data($0) }
        let range = try XCTUnwrap(data.range(of: needle))
        data[range.lowerBound] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: target))
        XCTAssertThrowsError(try HDF5File.open(target).read("w", as: Float.self)) { error in
            XCTAssertTrue("\(error)".contains("read"), "\(error)")
        }
    }
}
