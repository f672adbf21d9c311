import Foundation
import Imaging
import Neural
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// The celldeath method end to end on a small synthetic transmitted-light set: `synth-celldeath`
/// (known truth, the same bytes on any rank count), `tiles` (grid geometry, labels from names,
/// splits that never straddle an image, one line per bad image), ResNet training on two ranks to a
/// stated accuracy on a held-out experiment, and fine-tuning's frozen phase and layer-group rates.
final class CellDeathTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("celldeath") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let fields = ["--fields", "line,treatment,time,experiment,index", "--label-field", "treatment", "--classes", "control,CPT"]

    func run(_ arguments: [String], ranks: Int = 1, expect status: Int32 = 0) throws -> String {
        let netosis = try productPath("netosis")
        let result = ranks == 1 ? try runProgram(netosis, arguments, timeout: 300) : try mpirun(ranks, netosis, arguments, timeout: 300)
        XCTAssertEqual(result.status, status, "netosis \(arguments.joined(separator: " ")): \(result.output)")
        return result.output
    }

    func synth(_ out: String, ranks: Int = 1, extra: [String] = []) throws {
        _ = try run(["synth-celldeath", "--out", out, "--width", "160", "--height", "120", "--lines", "cobble,smallround",
                     "--experiments", "2", "--images", "8", "--altered", "0.5", "--seed", "3"] + extra, ranks: ranks)
    }

    func testSynthTruthAndRankIndependence() throws {
        try synth(path("one"))
        try synth(path("two"), ranks: 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: path("one")).sorted()
        XCTAssertEqual(names.filter { $0.hasSuffix(".png") }.count, 2 * 2 * 2 * 8)
        XCTAssertEqual(names, try FileManager.default.contentsOfDirectory(atPath: path("two")).sorted())
        for name in names {
            XCTAssertEqual(FileManager.default.contents(atPath: path("one/\(name)")), FileManager.default.contents(atPath: path("two/\(name)")),
                           "\(name) differs between 1 and 2 ranks")
        }
        // truth.csv: controls have no altered cell; treated cultures about the asked fraction.
        let rows = try String(contentsOfFile: path("one/truth.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows.count, 64)
        var treated = (cells: 0.0, altered: 0.0)
        for row in rows {
            let (cells, altered) = (Double(row[5])!, Double(row[6])!)
            XCTAssertGreaterThan(cells, 20)
            if row[2] == "control" { XCTAssertEqual(altered, 0, row[0]) } else {
                // Binomial(cells, 0.5): within 4 SD per image, and the pooled share close.
                XCTAssertEqual(altered / cells, 0.5, accuracy: 4 * (0.25 / cells).squareRoot(), row[0])
                treated.cells += cells; treated.altered += altered
            }
            let image = try RGBImage.read(path("one/\(row[0])"))
            XCTAssertEqual([image.width, image.height], [160, 120])
        }
        XCTAssertEqual(treated.altered / treated.cells, 0.5, accuracy: 4 * (0.25 / treated.cells).squareRoot())
        // Another seed, another set; an unknown line is one line.
        XCTAssertTrue(try run(["synth-celldeath", "--out", path("bad"), "--lines", "cobble,hela"], expect: 64).contains("unknown cell line 'hela'"))
    }

    func testTilesGeometryLabelsAndSplits() throws {
        try synth(path("set"))
        let output = try run(["tiles", "--input", path("set"), "--out", path("t.h5"), "--test", "experiment=e2"] + Self.fields)
        XCTAssertTrue(output.contains("256 tiles of 60×80 (grid 2x2)"), output)
        let data = try PatchDataset(path: path("t.h5"))
        XCTAssertEqual([data.count, data.height, data.width, data.channels], [256, 60, 80, 3])
        XCTAssertEqual(data.channelNames, ["red", "green", "blue"])
        XCTAssertEqual(data.task, "image-classification")
        XCTAssertEqual(data.classNames, ["control", "CPT"])
        // Tiles are the image's quarters, row-major, channels last.
        let image = try RGBImage.read(path("set/\(data.imageNames[5]).png"))
        let rows = (0..<data.count).filter { data.imageIndex[$0] == 5 }
        XCTAssertEqual(rows.count, 4)
        for (k, row) in rows.enumerated() {
            let tile = try data.patch(row)
            let (y0, x0) = (k / 2 * 60, k % 2 * 80)
            for (y, x, c) in [(0, 0, 0), (59, 79, 2), (30, 41, 1)] {
                XCTAssertEqual(Int(tile[(y * 80 + x) * 3 + c]), Int(image.pixels[((y0 + y) * 160 + x0 + x) * 3 + c]), "tile \(k) (\(x),\(y),\(c))")
            }
        }
        // Labels follow the names; an image's tiles share a split; experiment e2 is the test split.
        for row in 0..<data.count {
            let fields = data.fields[Int(data.imageIndex[row])]
            XCTAssertEqual(data.labels[row], fields["treatment"] == "control" ? 0 : 1)
            XCTAssertEqual(data.split[row] == PatchSplit.test.rawValue, fields["experiment"] == "e2")
        }
        for image in Set(data.imageIndex) {
            XCTAssertEqual(Set((0..<data.count).filter { data.imageIndex[$0] == image }.map { data.split[$0] }).count, 1)
        }
        XCTAssertEqual(data.classCounts(in: .val), [20, 20])   // 30 % of each class's 16 e1 images, 4 tiles each
        // Two ranks write the same file contents.
        _ = try run(["tiles", "--input", path("set"), "--out", path("t2.h5"), "--test", "experiment=e2"] + Self.fields, ranks: 2)
        let other = try PatchDataset(path: path("t2.h5"))
        XCTAssertEqual(other.labels, data.labels); XCTAssertEqual(other.split, data.split); XCTAssertEqual(other.imageNames, data.imageNames)
        for row in [0, 17, 255] { XCTAssertEqual(try other.patch(row), try data.patch(row)) }
        // Split by experiment: whole experiments on each side.
        _ = try run(["tiles", "--input", path("set"), "--out", path("t3.h5"), "--split-by", "experiment", "--val-fraction", "0.5"] + Self.fields)
        let byExperiment = try PatchDataset(path: path("t3.h5"))
        for e in ["e1", "e2"] {
            let splits = Set((0..<byExperiment.count).filter { byExperiment.field("experiment", row: $0) == e }.map { byExperiment.split[$0] })
            XCTAssertEqual(splits.count, 1, "experiment \(e) straddles splits")
        }
        // Regex labels and a CSV give the same classes.
        _ = try run(["tiles", "--input", path("set"), "--out", path("t4.h5"), "--label", "CPT=_CPT_", "--label", "control=_control_",
                     "--classes", "control,CPT", "--tiles", "2"])
        let byPattern = try PatchDataset(path: path("t4.h5"))
        XCTAssertEqual([byPattern.height, byPattern.width, byPattern.count], [120, 80, 128])
        XCTAssertEqual(byPattern.classCounts(), [64, 64])
    }

    func testBadImagesAreOneLineEachAndTheRestGoOn() throws {
        try synth(path("set"))
        let colour = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ImagingTests/Fixtures/colour").path
        let bad = ["corrupt.png": "cobble_CPT_1h_e1_101.png", "rgb16.png": "cobble_CPT_1h_e1_102.png",
                   "grey.jpg": "cobble_CPT_1h_e1_103.jpg", "cmyk.jpg": "cobble_CPT_1h_e1_104.jpg",
                   "truncated.jpg": "cobble_CPT_1h_e1_105.jpg", "rgb.png": "cobble_CPT_1h_e1_106.png"]
        for (from, to) in bad { try FileManager.default.copyItem(atPath: "\(colour)/\(from)", toPath: path("set/\(to)")) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: path("set/oddname.png")))
        let output = try run(["tiles", "--input", path("set"), "--out", path("t.h5")] + Self.fields)
        let warnings = output.split(separator: "\n").filter { $0.contains("warning") }
        for (_, name) in bad { XCTAssertEqual(warnings.filter { $0.contains(name) }.count, 1, "\(name): \(output)") }
        XCTAssertTrue(warnings.contains { $0.contains("oddname.png") && $0.contains("'_'-separated") }, output)
        XCTAssertTrue(output.contains("16-bit"), output); XCTAssertTrue(output.contains("CMYK"), output)
        XCTAssertTrue(output.contains("greyscale"), output)
        XCTAssertTrue(output.contains("6 image(s) failed"), output)
        XCTAssertEqual(try PatchDataset(path: path("t.h5")).count, 64 * 4)
        // Nothing to tile: one line, no file.
        XCTAssertTrue(try run(["tiles", "--input", path("set"), "--out", path("u.h5"), "--only", "line=hela"] + Self.fields, expect: 1)
            .contains("no image left to tile"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("u.h5")))
    }

    /// A narrow ResNet trained on two ranks (AdamW, one-cycle, fastai-style head) calls the images
    /// of a held-out experiment: the generator's truth is learnable, and the whole path holds.
    func testSmallResNetReachesStatedAccuracyOnAHeldOutExperiment() throws {
        try synth(path("set"))
        _ = try run(["tiles", "--input", path("set"), "--out", path("t.h5"), "--test", "experiment=e2"] + Self.fields)
        try """
        architecture: resnet
        name: resnet-tiny
        block: basic
        layers: [1, 1, 1]
        width: 8
        input_channels: 3
        num_classes: 2
        input_size: 480
        input_width: 640
        input_normalization: imagenet

        """.write(toFile: path("tiny.yaml"), atomically: true, encoding: .utf8)
        _ = try run(["train", "--data", path("t.h5"), "--model", path("tiny.yaml"), "--out", path("run"), "--epochs", "8",
                     "--batch-size", "16", "--optimizer", "adamw", "--lr", "3e-3", "--schedule", "one-cycle", "--weight-decay", "0.01",
                     "--lighting", "0.1", "--patience", "0"], ranks: 2)
        _ = try run(["evaluate", "--checkpoint", path("run/best.h5"), "--data", path("t.h5"), "--json", path("e.json"),
                     "--predictions", path("p.h5")], ranks: 2)
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: URL(fileURLWithPath: path("e.json"))))
        XCTAssertEqual(report.samples, 128)
        XCTAssertGreaterThanOrEqual(report.accuracy ?? 0, 0.85, "tile accuracy")
        let images = try XCTUnwrap(report.imageLevel)
        XCTAssertEqual(images.images, 32)
        XCTAssertGreaterThanOrEqual(images.meanProbability.accuracy ?? 0, 0.9, "image accuracy (mean probability)")
        XCTAssertEqual(images.byField["line"]?.count, 2)
        // Precision is TP / predicted, recall TP / true (celldeath's code swaps them).
        let m = images.meanProbability.confusion
        if m[0][1] + m[1][1] > 0 { XCTAssertEqual(images.meanProbability.precision[1]!, Double(m[1][1]) / Double(m[0][1] + m[1][1]), accuracy: 1e-12) }
        XCTAssertEqual(images.meanProbability.recall[1]!, Double(m[1][1]) / Double(m[1][0] + m[1][1]), accuracy: 1e-12)
        let file = try HDF5File.open(path("p.h5"))
        XCTAssertEqual(try file.stringAttribute("task"), "image-classification")
        let probability: [Float] = try file.read("images/probability")
        XCTAssertEqual(probability.count, 64)
        for i in 0..<32 { XCTAssertEqual(probability[2 * i] + probability[2 * i + 1], 1, accuracy: 1e-5) }
        // counts refuses it in one line; report gives the image-classification sections.
        XCTAssertThrowsError(try ResultsFile.read(path("p.h5"))) { XCTAssertTrue("\($0)".contains("whole-image classification"), "\($0)") }
        _ = try run(["report", "--results", path("p.h5"), "--out", path("r.html")])
        let html = try String(contentsOfFile: path("r.html"), encoding: .utf8)
        for needle in ["Confusion matrices", "precision (TP / called)", "Accuracy by field", "Training history", "<polyline", "cobble_CPT_1h_e2_001"] {
            XCTAssertTrue(html.contains(needle), needle)
        }
        // Screening the photographs themselves (no tiles file, no labels) gives evaluate's calls, on 2 ranks.
        _ = try run(["screen", "--checkpoint", path("run/best.h5"), "--input", path("set"), "--tiles", "4", "--classes", "control,CPT",
                     "--out", path("screen.h5")], ranks: 2)
        let screened = try HDF5File.open(path("screen.h5"))
        XCTAssertEqual(try screened.stringAttribute("task"), "image-classification")
        let screenedNames = try screened.dataset("images/name").readStrings()
        let screenedProbability: [Float] = try screened.read("images/probability")
        let evaluatedNames = try file.dataset("images/name").readStrings()
        XCTAssertEqual(screenedNames.count, 64)
        for (i, name) in evaluatedNames.enumerated() {
            let j = try XCTUnwrap(screenedNames.firstIndex(of: name), name)
            XCTAssertEqual(screenedProbability[2 * j + 1], probability[2 * i + 1], accuracy: 1e-4, name)
        }
        // Grad-CAM of the ResNet over colour tiles: maps [n, 60, 80] and PNG strips (tile | map | overlay).
        _ = try run(["saliency", "--checkpoint", path("run/best.h5"), "--patches", path("t.h5"), "--limit", "3", "--method", "grad-cam",
                     "--out", path("s.h5"), "--png", path("png")])
        let maps = try HDF5File.open(path("s.h5")).dataset("maps")
        XCTAssertEqual(try maps.shape(), [3, 60, 80])
        let strip = try RGBImage.read(path("png") + "/" + (try FileManager.default.contentsOfDirectory(atPath: path("png")).sorted()[0]))
        XCTAssertEqual([strip.width, strip.height], [240, 60])
        let tile = try PatchDataset(path: path("t.h5")).patch(try PatchDataset(path: path("t.h5")).rows(in: .test)[0])
        XCTAssertEqual(Array(strip.pixels[0..<3]), tile[0..<3].map { UInt8($0) }, "the strip starts with the tile as it is")
    }

    /// `--init` from torchvision weights (the committed narrow-ResNet fixture: torchvision's own
    /// modules, random init, written as a netosis checkpoint as tools/import_torchvision.py does)
    /// into the same body with fastai's head, then fine_tune's frozen epoch: after it the body's
    /// convolutions are still torchvision's, its BatchNorm and the new head have moved.
    func testInitFromTorchvisionWeightsAndFrozenEpoch() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralTests/Fixtures/resnet-basic-parity.h5").path
        try synth(path("set"))
        _ = try run(["tiles", "--input", path("set"), "--out", path("t.h5"), "--test", "experiment=e2"] + Self.fields)
        try """
        architecture: resnet
        name: narrow-fastai
        block: basic
        layers: [2, 1, 2]
        width: 4
        input_channels: 3
        num_classes: 2
        input_size: 40
        input_width: 48
        head: fastai
        head_hidden: 16
        head_dropout: 0.5
        input_normalization: imagenet

        """.write(toFile: path("narrow.yaml"), atomically: true, encoding: .utf8)
        let output = try run(["train", "--data", path("t.h5"), "--model", path("narrow.yaml"), "--init", fixture, "--out", path("run"),
                              "--epochs", "2", "--freeze-epochs", "1", "--freeze-lr", "1e-2", "--schedule", "one-cycle", "--optimizer", "adamw",
                              "--batch-size", "16", "--keep", "2", "--patience", "0"], ranks: 2)
        XCTAssertTrue(output.contains("its classifier has 3 classes, not 2: re-initialised head/2/weight"), output)
        XCTAssertTrue(output.contains("with the body frozen"), output)
        let steps = try PatchDataset(path: path("t.h5")).rows(in: .train).count / 16
        let afterFrozen = try WeightIO.loadModel(path: path("run/ckpt-\(steps).h5"))
        let final = try WeightIO.loadModel(path: path("run/ckpt-\(2 * steps).h5"))
        let torchvision = try WeightIO.loadModel(path: fixture)
        func tensor(_ m: any Model, _ name: String) -> [Float] { m.stateTensors.first { $0.name == name }!.value }
        for name in ["conv1/weight", "layer1/0/conv1/weight", "layer3/1/conv2/weight", "layer2/0/downsample/0/weight"] {
            XCTAssertEqual(tensor(afterFrozen, name), tensor(torchvision, name), "\(name) moved while frozen")
            XCTAssertNotEqual(tensor(final, name), tensor(torchvision, name), "\(name) did not learn after unfreezing")
        }
        XCTAssertNotEqual(tensor(afterFrozen, "bn1/weight"), tensor(torchvision, "bn1/weight"), "BatchNorm learns in the frozen phase")
    }

    /// fastai's fine_tune on a ResNet: the frozen phase updates BatchNorm (at a tenth) and the head
    /// only; then every group learns at rates geometric from lr_min to lr.
    func testFrozenPhaseAndLayerGroupRates() throws {
        let model = try ResNet(config: ResNetConfig(name: "t", block: .basic, layers: [1, 1, 1, 1], width: 4, inputSize: 32, inputWidth: 32), seed: 1)
        var flags = TrainSettings()
        flags.data = "x.h5"; flags.out = "run"; flags.epochs = 3; flags.lr = 1e-3; flags.lrMin = 1e-5; flags.freezeEpochs = 1
        flags.freezeLR = 1e-2; flags.schedule = .oneCycle; flags.optimizer = .sgd
        let settings = try TrainSettings.resolve(flags: flags, config: nil)
        let tuning = FineTuning(settings: settings, stepsPerEpoch: 4)
        let optimizer = TrainJob.makeOptimizer(settings, stepsPerEpoch: 4)
        tuning.apply(to: optimizer, model: model, at: 0)
        XCTAssertEqual(optimizer.schedule.base, 1e-2)
        XCTAssertEqual(optimizer.parameterRates["conv1/weight"], 0)
        XCTAssertEqual(optimizer.parameterRates["layer4/0/conv2/weight"], 0)
        XCTAssertEqual(optimizer.parameterRates["layer1/0/bn1/weight"], 0.1)
        XCTAssertNil(optimizer.parameterRates["fc/weight"])
        for p in model.parameters { for i in p.grad.indices { p.grad[i] = 1 } }
        let before = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.value) })
        optimizer.update(model.parameters)
        XCTAssertEqual(model.parameters.first { $0.name == "conv1/weight" }!.value, before["conv1/weight"])
        XCTAssertNotEqual(model.parameters.first { $0.name == "bn1/weight" }!.value, before["bn1/weight"])
        XCTAssertNotEqual(model.parameters.first { $0.name == "fc/weight" }!.value, before["fc/weight"])
        XCTAssertEqual(tuning.phase(at: 3), 0); XCTAssertEqual(tuning.phase(at: 4), 1)
        tuning.apply(to: optimizer, model: model, at: 4)
        XCTAssertEqual(optimizer.schedule.base, 1e-3)
        XCTAssertEqual(optimizer.schedule.offset, 4)
        // Three groups: 1e-5, 1e-4, 1e-3 (fastai's even_mults), as factors of lr.
        XCTAssertEqual(Double(optimizer.parameterRates["conv1/weight"]!), 1e-2, accuracy: 1e-7)
        XCTAssertEqual(Double(optimizer.parameterRates["layer2/0/conv1/weight"]!), 1e-2, accuracy: 1e-7)
        XCTAssertEqual(Double(optimizer.parameterRates["layer3/0/conv1/weight"]!), 1e-1, accuracy: 1e-6)
        XCTAssertNil(optimizer.parameterRates["fc/weight"])
        // The new cycle starts at lr/25 at its own step 0.
        XCTAssertEqual(optimizer.schedule.rate(at: 4), 1e-3 / 25, accuracy: 1e-12)
        // A network without groups refuses the keys in one line.
        let dense = try ModelConfig.load("densenet121").makeModel(seed: 1)
        XCTAssertThrowsError(try FineTuning.check(settings, model: dense)) { XCTAssertTrue("\($0)".contains("no layer groups"), "\($0)") }
    }
}
