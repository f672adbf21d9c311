import Foundation
import Imaging

/// A problem with one input, phrased for whoever fixes it ("CellCounter_x.xml: names image x.tif, …").
public struct PrepareError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// The result of preparing one image: its patches, or why it failed. Travels between ranks as bytes.
struct ImageOutcome {
    struct Header: Codable {
        var identity: ImageIdentity
        var imagePath: String
        var annotationPath: String
        var width = 0
        var height = 0
        var objects = 0
        var mean: Float = .nan
        var std: Float = .nan
        var stats = LabelStats()
        var warnings: [String] = []
        var error: String?
        var seconds = 0.0
        var count = 0
    }

    var header: Header
    /// [count, S, S] raw intensities.
    var patches: [UInt16] = []
    var labels: [Int8] = []
    /// [count, 2] (x, y).
    var centers: [Float] = []

    var identity: ImageIdentity { header.identity }
    var row: PatchesImageRow {
        PatchesImageRow(identity: header.identity, path: header.imagePath, width: header.width, height: header.height,
                        objects: header.objects, mean: header.mean, std: header.std)
    }
    var imagePath: String { header.imagePath }
    var width: Int { header.width }
    var height: Int { header.height }
    var objects: Int { header.objects }

    /// Length-prefixed JSON header, then the three arrays' raw bytes.
    func encoded() throws -> [UInt8] {
        var h = header
        h.count = labels.count
        let json = try JSONEncoder().encode(h)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + json.count + patches.count * 2 + labels.count + centers.count * 4)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        patches.withUnsafeBytes { bytes.append(contentsOf: $0) }
        labels.withUnsafeBytes { bytes.append(contentsOf: $0) }
        centers.withUnsafeBytes { bytes.append(contentsOf: $0) }
        return bytes
    }

    static func decode(_ bytes: [UInt8], patchSize: Int) throws -> ImageOutcome {
        func corrupt() -> PrepareError { PrepareError(path: "rank message", problem: "corrupt image result (\(bytes.count) bytes)") }
        guard bytes.count >= 8 else { throw corrupt() }
        let jsonLength = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard bytes.count >= 8 + jsonLength else { throw corrupt() }
        let header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<(8 + jsonLength)]))
        let n = header.count, area = patchSize * patchSize
        var offset = 8 + jsonLength
        guard bytes.count == offset + n * area * 2 + n + n * 8 else { throw corrupt() }
        var outcome = ImageOutcome(header: header)
        bytes.withUnsafeBytes { raw in
            outcome.patches = [UInt16](unsafeUninitializedCapacity: n * area) { b, c in
                UnsafeMutableRawBufferPointer(b).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n * area * 2)]))
                c = n * area
            }
            offset += n * area * 2
            outcome.labels = raw[offset..<(offset + n)].map { Int8(bitPattern: $0) }
            offset += n
            outcome.centers = [Float](unsafeUninitializedCapacity: 2 * n) { b, c in
                UnsafeMutableRawBufferPointer(b).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n * 8)]))
                c = 2 * n
            }
        }
        return outcome
    }
}
