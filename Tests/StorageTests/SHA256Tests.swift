import Foundation
import Storage
import TestSupport
import XCTest

/// The manifest's checksums must be the ones `sha256sum` prints (FIPS 180-4 test vectors).
final class SHA256Tests: XCTestCase {
    func testKnownDigests() throws {
        func digest(_ data: Data) -> String { var h = SHA256(); h.update(data); return h.hexDigest() }
        XCTAssertEqual(digest(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(digest(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(digest(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // A million 'a' fed in uneven pieces, through a file.
        let dir = try makeTemporaryDirectory("sha256")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a")
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000).write(to: file)
        XCTAssertEqual(SHA256.ofFile(file.path), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var pieces = SHA256()
        for n in [1, 63, 64, 65, 999_807] { pieces.update(Data(repeating: UInt8(ascii: "a"), count: n)) }
        XCTAssertEqual(pieces.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
