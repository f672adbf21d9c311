import Foundation

/// The classes `screen` counts, in model output order (the patches' labels).
public enum ScreenStages {
    /// Stage columns of results.h5 `/images`.
    public static let keys = ["seconds_read", "seconds_segment", "seconds_classify"]
}

public enum ScreenClasses {
    public static let names = ["other", "non-NETotic", "NETotic"]
    /// Column suffixes in results.h5 and the CSV exports.
    public static let keys = ["other", "non_netotic", "netotic"]
}

/// One input image's row of results.h5 `/images`.
public struct ScreenedImage: Codable, Equatable, Sendable {
    /// Stem (single image) or `plate_well` (a well assembled from fields): the key a rerun matches.
    public var name: String
    public var plate: String
    public var well: String
    public var field: String
    /// The file, or the field files joined by ";".
    public var path: String
    /// "ok" or "failed".
    public var status: String
    /// Why it failed ("" when ok).
    public var error: String
    public var width: Int
    public var height: Int
    /// Objects per class (other, non-NETotic, NETotic).
    public var counts: [Int]
    /// Mean class probabilities over the image's objects (NaN without objects).
    public var meanProbabilities: [Double]
    public var checkpointID: String
    /// Wall time of the image on its rank (read, segment, classify).
    public var seconds: Double
    /// Where that time went: reading (and assembling), segmenting, cutting + classifying.
    public var stageSeconds: [Double] = [0, 0, 0]
    public var rank: Int

    public var isOK: Bool { status == "ok" }
    public var objects: Int { counts.reduce(0, +) }
    /// 100 × NETotic / (NETotic + non-NETotic); NaN when the image has neither.
    public var percentNETotic: Double {
        let d = counts[1] + counts[2]
        return d > 0 ? 100 * Double(counts[2]) / Double(d) : .nan
    }

    public init(name: String, plate: String, well: String, field: String, path: String, status: String, error: String,
                width: Int, height: Int, counts: [Int], meanProbabilities: [Double], checkpointID: String,
                seconds: Double, rank: Int) {
        self.name = name; self.plate = plate; self.well = well; self.field = field; self.path = path
        self.status = status; self.error = error; self.width = width; self.height = height; self.counts = counts
        self.meanProbabilities = meanProbabilities; self.checkpointID = checkpointID; self.seconds = seconds; self.rank = rank
    }

    /// Equal apart from where and how long it ran (what "the same results" means across runs).
    public func sameResult(as other: ScreenedImage) -> Bool {
        var a = self, b = other
        a.seconds = 0; b.seconds = 0; a.rank = 0; b.rank = 0; a.stageSeconds = []; b.stageSeconds = []
        // NaN ≠ NaN: compare the bit patterns of the means.
        return a.name == b.name && a.plate == b.plate && a.well == b.well && a.field == b.field && a.path == b.path
            && a.status == b.status && a.error == b.error && a.width == b.width && a.height == b.height
            && a.counts == b.counts && a.checkpointID == b.checkpointID
            && a.meanProbabilities.map(\.bitPattern) == b.meanProbabilities.map(\.bitPattern)
    }
}

/// One image's objects as columns (results.h5 `/objects`, rows of one image).
public struct ObjectRows: Equatable, Sendable {
    public var x: [Float] = [], y: [Float] = []
    /// min x, min y, max x, max y (inclusive) per object.
    public var bbox: [Int32] = []
    public var area: [Int32] = []
    public var intensity: [Float] = []
    public var solidity: [Float] = []
    public var classes: [Int8] = []
    /// Class probabilities, `ScreenClasses.names.count` per object.
    public var probabilities: [Float] = []

    public init() {}
    public var count: Int { x.count }
}

/// What a worker returns for one image.
public struct ScreenResult: Equatable, Sendable {
    public var image: ScreenedImage
    public var objects: ObjectRows

    public init(image: ScreenedImage, objects: ObjectRows = ObjectRows()) { self.image = image; self.objects = objects }

    /// A compact binary form (MPI messages and the journal): the image row as JSON, then the object
    /// columns as raw little-endian arrays.
    public func encoded() throws -> [UInt8] {
        var out: [UInt8] = []
        let json = try Self.encoder.encode(image)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func put<T>(_ a: [T]) { put(UInt64(a.count)); a.withUnsafeBytes { out += $0 } }
        put(UInt32(json.count)); out += json
        put(objects.x); put(objects.y); put(objects.bbox); put(objects.area); put(objects.intensity)
        put(objects.solidity); put(objects.classes); put(objects.probabilities)
        return out
    }

    // Means of an image without objects are NaN, which plain JSON cannot hold.
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }()

    public static func decode(_ bytes: [UInt8]) throws -> ScreenResult {
        var at = 0
        struct Short: Error {}
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, at + n <= bytes.count else { throw Short() }
            defer { at += n }
            return bytes[at..<at + n]
        }
        func int<T: FixedWidthInteger>(_: T.Type) throws -> T {
            T(littleEndian: try take(MemoryLayout<T>.size).withUnsafeBytes { $0.loadUnaligned(as: T.self) })
        }
        func array<T>(_: T.Type) throws -> [T] {
            let n = Int(try int(UInt64.self))
            guard n <= bytes.count else { throw Short() }
            let raw = try take(n * MemoryLayout<T>.stride)
            return raw.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
        }
        do {
            let jsonLength = Int(try int(UInt32.self))
            let image = try Self.decoder.decode(ScreenedImage.self, from: Data(try take(jsonLength)))
            var o = ObjectRows()
            o.x = try array(Float.self); o.y = try array(Float.self); o.bbox = try array(Int32.self)
            o.area = try array(Int32.self); o.intensity = try array(Float.self); o.solidity = try array(Float.self)
            o.classes = try array(Int8.self); o.probabilities = try array(Float.self)
            let n = o.x.count, k = ScreenClasses.names.count
            guard at == bytes.count, o.y.count == n, o.bbox.count == 4 * n, o.area.count == n, o.intensity.count == n,
                  o.solidity.count == n, o.classes.count == n, o.probabilities.count == k * n else { throw Short() }
            return ScreenResult(image: image, objects: o)
        } catch {
            throw ScreenResultError.malformed
        }
    }
}

enum ScreenResultError: Error { case malformed }
