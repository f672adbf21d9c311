import Foundation
import Neural
import Imaging
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// An `architecture: sequential` network goes through the same `train` and `evaluate` as DenseNet:
/// alone and on two ranks (with dropout and BatchNorm, `--sync-bn`: the same weights), resumed
/// exactly, evaluated with the test split's metrics.
final class SequentialTrainTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("seqtrain") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let model = """
        architecture: sequential
        name: seq-small
        input_size: 32
        layers:
          - conv: {filters: 8, kernel: 3, padding: same}
          - batchnorm
          - relu
          - maxpool: 2
          - conv: {filters: 8, kernel: 3, stride: 2}
          - relu
          - dropout: 0.25
          - flatten
          - dense: 16
          - relu
          - dense: 3
          - softmax
        """

    func weights(_ checkpoint: String) throws -> [Float] {
        try WeightIO.loadModel(path: checkpoint).stateTensors.flatMap(\.value)
    }

    func testTrainResumeAndEvaluateASequentialModel() throws {
        let netosis = try productPath("netosis")
        let data = path("patches.h5"), yaml = path("seq-small.yaml")
        try TrainInputs.patches(data, train: 240, val: 30, test: 60)
        try Self.model.write(toFile: yaml, atomically: true, encoding: .utf8)
        func train(_ ranks: Int, out: String, epochs: Int) throws -> String {
            let arguments = ["train", "--data", data, "--out", out, "--model", yaml, "--epochs", "\(epochs)",
                             "--batch-size", "16", "--lr", "0.05", "--seed", "11", "--patience", "0", "--sync-bn"]
            let run = ranks == 1 ? try runProgram(netosis, arguments, timeout: 180) : try mpirun(2, netosis, arguments, timeout: 180)
            XCTAssertEqual(run.status, 0, run.output)
            return run.output
        }
        let output = try train(1, out: path("one"), epochs: 3)
        XCTAssertTrue(output.contains("train: seq-small ("), output)
        try train(2, out: path("two"), epochs: 3)
        let one = try weights(path("one/ckpt-45.h5")), two = try weights(path("two/ckpt-45.h5"))
        let scale = one.map(abs).max()!
        // 45 steps of float sums in another order (2e-5 measured); other dropout masks would differ by ~1e-1.
        XCTAssertLessThanOrEqual(zip(one, two).map { abs($0 - $1) }.max()! / scale, 1e-4,
                                 "one rank and two ranks (same dropout masks, synchronised BatchNorm) train the same weights")
        XCTAssertEqual(try WeightIO.config(atPath: path("one/ckpt-45.h5")).architecture, "sequential")

        // Stopped after 2 epochs and resumed for the third: the same weights as straight through.
        try train(1, out: path("split"), epochs: 2)
        let resumed = try train(1, out: path("split"), epochs: 3)
        XCTAssertTrue(resumed.contains("resuming from"), resumed)
        XCTAssertLessThanOrEqual(zip(try weights(path("split/ckpt-45.h5")), one).map { abs($0 - $1) }.max()!, 1e-6)

        // evaluate: the easy synthetic classes are learnt.
        let json = path("eval.json")
        let run = try mpirun(2, netosis, ["evaluate", "--checkpoint", path("one/best.h5"), "--data", data, "--split", "test", "--json", json])
        XCTAssertEqual(run.status, 0, run.output)
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        XCTAssertEqual(report.samples, 60)
        XCTAssertGreaterThanOrEqual(report.accuracy!, 0.9, "\(report.confusion)")

        // saliency: Grad-CAM of the test patches under mpirun, maps in HDF5 and PNGs a PNG reader accepts.
        let maps = path("maps.h5"), pngs = path("png")
        let saliency = try mpirun(2, netosis, ["saliency", "--checkpoint", path("one/best.h5"), "--patches", data, "--method", "grad-cam",
                                               "--limit", "6", "--out", maps, "--png", pngs])
        XCTAssertEqual(saliency.status, 0, saliency.output)
        XCTAssertTrue(saliency.output.contains("grad-cam maps of 6 patch(es) (Grad-CAM at layer 5)"), saliency.output)
        let file = try HDF5File.open(maps)
        XCTAssertEqual(try file.dataset("maps").shape(), [6, 32, 32])
        let values: [Float] = try file.read("maps")
        XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0.isFinite } && values.contains { $0 > 0 })
        let images = try FileManager.default.contentsOfDirectory(atPath: pngs).filter { $0.hasSuffix(".png") }
        XCTAssertEqual(images.count, 6)
        // Python's own zlib and PNG structure rules (standard library only) decode each file.
        let check = try runProgram("/usr/bin/env", ["python3", "-c", """
            import struct, sys, zlib
            for p in sys.argv[1:]:
                b = open(p, 'rb').read(); assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'; i = 8; data = b''
                while i < len(b):
                    n, t = struct.unpack('>I4s', b[i:i + 8]); body = b[i + 8:i + 8 + n]
                    assert zlib.crc32(t + body) == struct.unpack('>I', b[i + 8 + n:i + 12 + n])[0], p
                    if t == b'IHDR': w, h = struct.unpack('>II', body[:8])
                    if t == b'IDAT': data += body
                    i += 12 + n
                raw = zlib.decompress(data); assert len(raw) == h * (1 + 3 * w), (len(raw), w, h)
            print('ok', w, h)
            """] + images.map { pngs + "/" + $0 })
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("ok 96 32"), check.output)
    }
}
