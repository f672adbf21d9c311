import Foundation
import Storage

/// Model weights in HDF5, following the checkpoint schema of DESIGN.md:
/// `/model/<state_dict key with '.' → '/'>` float32 in PyTorch layout (convolution kernels
/// [out, in, kh, kw]), BatchNorm running statistics included; the model configuration is the
/// JSON attribute `config` of `/model`. Optimizer state goes under `/optimizer/<kind>/...`.
/// Every tensor is stored with a Fletcher-32 checksum, so a damaged file fails to load
/// instead of loading silently.
public enum WeightIO {
    /// Version 1: /model, /optimizer (DESIGN). Version 2 adds /state and /history (training
    /// runs); an addition, so version 1 stays readable.
    public static let format = FileFormat(name: "netosis.checkpoint", version: 2, oldestReadable: 1,
                                          madeBy: "netosis train` or `tools/import_torchvision.py")

    /// Writes a checkpoint atomically (temp → fsync → rename): file attributes, /model and,
    /// if given, /optimizer. `configure` may add more (e.g. /state, /history) before the rename.
    public static func save(_ model: any Model, to path: String, optimizer: Optimizer? = nil,
                            configure: ((HDF5File) throws -> Void)? = nil) throws {
        // A diverged model must not replace a good checkpoint.
        for tensor in model.stateTensors {
            let bad = nonFiniteCount(tensor.value)
            if bad > 0 { throw NeuralError.nonFiniteWeights(file: path, tensor: tensor.name, count: bad, saving: true) }
        }
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(temporary)
            try FileHeader(format, config: model.modelConfig.json()).write(to: file)
            try writeModel(model, into: file)
            if let optimizer { try writeOptimizer(optimizer, model: model, into: file) }
            try configure?(file)
            try file.close()
        }
    }

    public static func configJSON(_ config: DenseNetConfig) throws -> String {
        try ModelConfig.densenet(config).json()
    }

    /// Writes every model tensor under `/model`.
    public static func writeModel(_ model: any Model, into file: HDF5Group) throws {
        let group = try file.requireGroup("model")
        try group.setAttribute("config", model.modelConfig.json())
        for tensor in model.stateTensors {
            try group.write(tensor.name, tensor.torchLayout(), shape: tensor.shape,
                            options: DatasetOptions(chunk: tensor.shape, checksum: true))
        }
    }

    /// Writes optimizer state (step, kind, hyper-parameters, per-parameter buffers in PyTorch layout).
    public static func writeOptimizer(_ optimizer: Optimizer, model: any Model, into file: HDF5Group) throws {
        let group = try file.requireGroup("optimizer")
        try group.setAttribute("kind", optimizer.kindName)
        try group.setAttribute("step", Int64(optimizer.step))
        try group.setAttribute("learning_rate", optimizer.schedule.base)
        let byName = Dictionary(uniqueKeysWithValues: model.stateTensors.map { ($0.name, $0) })
        for (name, values) in optimizer.stateTensors() {
            let slash = name.firstIndex(of: "/")!
            let parameter = byName[String(name[name.index(after: slash)...])]
            let shape = parameter?.shape ?? [values.count]
            try group.write(name, parameter?.torchLayout(values) ?? values, shape: shape,
                            options: DatasetOptions(chunk: shape, checksum: true))
        }
    }

    /// The model configuration stored in a checkpoint.
    public static func config(atPath path: String) throws -> ModelConfig {
        let file = try open(path)
        let text: String
        do { text = try file.group("model").stringAttribute("config") }
        catch { throw NeuralError.unreadableWeights(file: path, detail: "no /model group with a 'config' attribute") }
        do { return try JSONDecoder().decode(ModelConfig.self, from: Data(text.utf8)) }
        catch { throw NeuralError.unreadableWeights(file: path, detail: "model config attribute is not valid: \(error)") }
    }

    /// Builds the model a checkpoint describes and loads its weights.
    public static func loadModel(path: String) throws -> any Model {
        let model = try config(atPath: path).makeModel()
        try loadWeights(into: model, path: path)
        return model
    }

    /// Opens a checkpoint read-only after checking its header (format and version).
    static func open(_ path: String) throws -> HDF5File {
        try FileHeader.open(path, expecting: format).0
    }

    /// Loads every tensor of `model` from `/model` of the file at `path`. Shapes must match the
    /// model; with `sumStemChannels` a stem kernel with more input channels than the model
    /// (e.g. ImageNet RGB into a 1-channel model) is summed over its input channels.
    public static func loadWeights(into model: any Model, path: String, sumStemChannels: Bool = false) throws {
        let file = try open(path)
        guard file.exists("model") else { throw NeuralError.unreadableWeights(file: path, detail: "no /model group") }
        let group = try file.group("model")
        // Read everything first so a failure leaves the model untouched.
        var loaded: [(Parameter, [Float])] = []
        for tensor in model.stateTensors {
            guard group.exists(tensor.name) else { throw NeuralError.missingTensor(tensor: tensor.name, file: path) }
            let values: [Float], found: [Int]
            do {
                let dataset = try group.dataset(tensor.name)
                found = try dataset.shape()
                values = try dataset.read(as: Float.self)
            } catch {
                throw NeuralError.unreadableWeights(file: path, detail: "tensor '\(tensor.name)': \(error)")
            }
            let bad = nonFiniteCount(values)
            if bad > 0 { throw NeuralError.nonFiniteWeights(file: path, tensor: tensor.name, count: bad, saving: false) }
            if found == tensor.shape {
                loaded.append((tensor, tensor.internalLayout(fromTorch: values)))
            } else if sumStemChannels, tensor.name == model.inputKernelName, found.count == 4,
                      found[0] == tensor.shape[0], found[2...] == tensor.shape[2...], tensor.shape[1] == 1 {
                let (o, i, k) = (found[0], found[1], found[2] * found[3])
                var summed = [Float](repeating: 0, count: o * k)
                for a in 0..<o { for b in 0..<i { for p in 0..<k { summed[a * k + p] += values[(a * i + b) * k + p] } } }
                loaded.append((tensor, tensor.internalLayout(fromTorch: summed)))
            } else {
                throw NeuralError.shapeMismatch(tensor: tensor.name, file: path, expected: tensor.shape, found: found)
            }
        }
        for (tensor, values) in loaded { tensor.value = values }
    }

    static func nonFiniteCount(_ values: [Float]) -> Int {
        values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
    }

    /// Restores optimizer state written by `writeOptimizer`.
    public static func loadOptimizer(_ optimizer: Optimizer, model: any Model, path: String) throws {
        let file = try open(path)
        guard file.exists("optimizer") else { throw NeuralError.unreadableWeights(file: path, detail: "no /optimizer group") }
        let group = try file.group("optimizer")
        let kind = try group.stringAttribute("kind")
        guard kind == optimizer.kindName else {
            throw NeuralError.badInput("\(path): optimizer state is for '\(kind)', not '\(optimizer.kindName)'")
        }
        optimizer.step = Int(try group.attribute("step", as: Int64.self))
        for tensor in model.parameters {
            for slot in try group.children() where group.exists("\(slot)/\(tensor.name)") {
                let dataset = try group.dataset("\(slot)/\(tensor.name)")
                let found = try dataset.shape()
                guard found == tensor.shape else {
                    throw NeuralError.shapeMismatch(tensor: "optimizer/\(slot)/\(tensor.name)", file: path,
                                                    expected: tensor.shape, found: found)
                }
                try optimizer.loadStateTensor(name: "\(slot)/\(tensor.name)",
                                              values: tensor.internalLayout(fromTorch: try dataset.read(as: Float.self)))
            }
        }
    }
}
