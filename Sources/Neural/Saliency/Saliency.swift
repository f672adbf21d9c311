import Foundation

/// What a saliency map shows.
public enum SaliencyMethod: String, CaseIterable, Codable, Sendable {
    /// d logit / d input with guided ReLUs (Springenberg et al. 2015): fine detail, per input channel.
    case guidedBackprop = "guided-backprop"
    /// Grad-CAM (Selvaraju et al. 2017): ReLU(Σ_k α_k A_k) at a convolutional layer, α_k the spatial
    /// mean of d logit / d A_k, upsampled (bilinear) to the input: coarse "where".
    case gradCAM = "grad-cam"
    /// Guided backprop × the upsampled Grad-CAM map.
    case guidedGradCAM = "guided-grad-cam"
}

/// Saliency maps of a network's class scores (logits, before softmax), computed in inference mode
/// as PyTorch hooks would on `model.eval()`. Maps are [batch, height, width, channels] for guided
/// backprop and guided Grad-CAM (the input's channels), [batch, height, width] for Grad-CAM.
///
/// Sequential models: any convolutional layer for Grad-CAM (default: the last convolution, after its
/// ReLU). DenseNet: Grad-CAM at `features/norm5` (torchvision's `features` output, before the final
/// ReLU, what pytorch-grad-cam targets); guided backprop runs a training-mode pass with every
/// BatchNorm frozen to its running statistics (the inference numbers) and guided fused ReLUs.
public struct Saliency {
    enum Network { case sequential(SequentialNet), densenet(DenseNet), resnet(ResNet) }
    let network: Network
    /// The layer whose output Grad-CAM weighs: a sequential layer index; -1 for DenseNet's norm5
    /// and for a ResNet's last stage.
    public let layer: Int
    public var layerName: String {
        if case let .resnet(net) = network { return "layer\(net.config.layers.count) (the last stage's output)" }
        return layer < 0 ? "features/norm5" : "layer \(layer)"
    }

    public init(_ model: any Model, layer: Int? = nil) throws {
        // DenseNet and ResNet: Grad-CAM at a fixed place (before the head).
        let fixed: (Network, String, String)? = if let dense = model as? DenseNet {
            (.densenet(dense), "DenseNet", "features/norm5")
        } else if let res = model as? ResNet {
            (.resnet(res), "ResNet", "the last stage's output")
        } else { nil }
        if let (network, kind, place) = fixed {
            guard layer == nil else {
                throw NeuralError.badConfig("\(kind) '\(model.name)': Grad-CAM is at \(place) (no --layer choice)")
            }
            self.network = network
            self.layer = -1
            return
        }
        guard let net = model as? SequentialNet else {
            throw NeuralError.badConfig("saliency maps are built for sequential models, DenseNet and ResNet, not \(model.architecture) '\(model.name)'")
        }
        network = .sequential(net)
        let maps = net.layers.indices.filter { !net.shapes[$0 + 1].isFlat && net.shapes[$0 + 1].height * net.shapes[$0 + 1].width > 1 }
        // Default, as pytorch-grad-cam's usual target: the last convolution's activation (its ReLU when one follows).
        guard let lastConv = net.layers.lastIndex(where: { $0 is ConvLayer }), maps.contains(lastConv) else {
            throw NeuralError.badConfig("model '\(net.config.name)' has no convolution with a spatial map for Grad-CAM")
        }
        let last = lastConv + 1 < net.layers.count && net.layers[lastConv + 1] is ReLULayer ? lastConv + 1 : lastConv
        if let layer {
            guard maps.contains(layer) else {
                throw NeuralError.badConfig("layer \(layer) of '\(net.config.name)' has no spatial map output (layers with one: \(maps.map(String.init).joined(separator: ", ")))")
            }
            self.layer = layer
        } else {
            self.layer = last
        }
    }

    var model: any Model {
        switch network { case let .sequential(net): net; case let .densenet(net): net; case let .resnet(net): net }
    }

    /// Maps of `batch` channels-last images for the given classes (one per image).
    public func maps(_ images: [Float], batch: Int, classes: [Int], method: SaliencyMethod) -> [Float] {
        let model = self.model
        let (s, c, k) = (model.inputSize, model.inputChannels, model.numClasses)
        precondition(images.count == batch * s * model.inputWidth * c && classes.count == batch && classes.allSatisfy { (0..<k).contains($0) })
        var seed = [Float](repeating: 0, count: batch * k)
        for (i, cls) in classes.enumerated() { seed[i * k + cls] = 1 }   // d(Σ_i logit_i,class_i)
        let guided = method == .gradCAM ? [] : guidedBackprop(images, batch: batch, seed: seed)
        let cam = method == .guidedBackprop ? [] : gradCAM(images, batch: batch, classes: classes, seed: seed)
        model.zeroGrad()   // backward accumulated parameter gradients nobody wants
        switch method {
        case .guidedBackprop: return guided
        case .gradCAM: return cam
        case .guidedGradCAM:
            return guided.indices.map { guided[$0] * cam[$0 / c] }
        }
    }

    private func guidedBackprop(_ images: [Float], batch: Int, seed: [Float]) -> [Float] {
        let model = self.model
        let (s, c) = (model.inputSize, model.inputChannels)
        return images.withUnsafeBufferPointer { x in
            switch network {
            case let .sequential(net):
                net.forward(x.baseAddress!, batch: batch, height: s, width: s, training: false)
                let dx = seed.withUnsafeBufferPointer { net.backward($0.baseAddress!, inputGradient: true, relu: .guided)! }
                return Array(UnsafeBufferPointer(start: dx, count: batch * s * s * c))
            case let .densenet(net):
                let norms = net.allBatchNorms
                for norm in norms { norm.frozen = true; norm.guided = true }
                defer { for norm in norms { norm.frozen = false; norm.guided = false } }
                net.forward(x.baseAddress!, batch: batch, height: s, width: s, training: true)
                let dx = seed.withUnsafeBufferPointer { net.backward(logitsGradient: $0.baseAddress!, inputGradient: true)! }
                return Array(UnsafeBufferPointer(start: dx, count: batch * s * s * c))
            case let .resnet(net):
                let w = net.config.inputWidth
                net.setSaliencyMode(true, guided: true)
                defer { net.setSaliencyMode(false) }
                net.forward(x.baseAddress!, batch: batch, height: s, width: w, training: true)
                let dx = seed.withUnsafeBufferPointer { net.backward(logitsGradient: $0.baseAddress!, inputGradient: true)! }
                return Array(UnsafeBufferPointer(start: dx, count: batch * s * w * c))
            }
        }
    }

    private func gradCAM(_ images: [Float], batch: Int, classes: [Int], seed: [Float]) -> [Float] {
        let s = model.inputSize
        return images.withUnsafeBufferPointer { x in
            switch network {
            case let .sequential(net):
                net.forward(x.baseAddress!, batch: batch, height: s, width: s, training: false)
                let shape = net.shapes[layer + 1]
                var gradient = [Float](repeating: 0, count: batch * shape.count)
                seed.withUnsafeBufferPointer { g in
                    gradient.withUnsafeMutableBufferPointer { _ = net.backward(g.baseAddress!, inputGradient: false, capture: layer, captured: $0.baseAddress!) }
                }
                let activation = Array(UnsafeBufferPointer(start: net.layerOutput(layer), count: batch * shape.count))
                return Self.upsample(Self.gradCAM(activation: activation, gradient: gradient, batch: batch, shape: shape),
                                     batch: batch, from: (shape.height, shape.width), to: (s, s))
            case let .densenet(net):
                // A = norm5(features) before the ReLU; the head is ReLU → global mean → linear, so
                // d logit_c / d A[p, j] = [A > 0] · W[c, j] / HW: Grad-CAM in closed form.
                net.forward(x.baseAddress!, batch: batch, height: s, width: s, training: false)
                let block = net.activations.blocks.last!
                let (hw, ch) = (block.height * block.width, block.channels)
                let affine = net.head.norm5.affine(inference: true)
                let w = net.head.classifier.weight.value
                var activation = [Float](repeating: 0, count: batch * hw * ch), gradient = activation
                for n in 0..<batch {
                    for p in 0..<hw {
                        let row = (n * hw + p) * ch
                        for j in 0..<ch {
                            let a = block.features.pointer[row + j] * affine.scale[j] + affine.shift[j]
                            activation[row + j] = a
                            gradient[row + j] = a > 0 ? w[classes[n] * ch + j] / Float(hw) : 0
                        }
                    }
                }
                let shape = FeatureShape(height: block.height, width: block.width, channels: ch)
                return Self.upsample(Self.gradCAM(activation: activation, gradient: gradient, batch: batch, shape: shape),
                                     batch: batch, from: (block.height, block.width), to: (s, s))
            case let .resnet(net):
                // A = the last stage's output; dA through the head alone, in inference numbers.
                net.setSaliencyMode(true)
                defer { net.setSaliencyMode(false) }
                net.forward(x.baseAddress!, batch: batch, height: s, width: net.config.inputWidth, training: true)
                let (a, h, w, ch) = net.lastStage
                let activation = Array(UnsafeBufferPointer(start: a, count: batch * h * w * ch))
                let gradient = seed.withUnsafeBufferPointer { net.lastStageGradient($0.baseAddress!) }
                let shape = FeatureShape(height: h, width: w, channels: ch)
                return Self.upsample(Self.gradCAM(activation: activation, gradient: gradient, batch: batch, shape: shape),
                                     batch: batch, from: (h, w), to: (s, net.config.inputWidth))
            }
        }
    }

    /// ReLU(Σ_k α_k A_k) per image, α_k = the spatial mean of the gradient of channel k. [batch, h, w].
    public static func gradCAM(activation: [Float], gradient: [Float], batch: Int, shape: FeatureShape) -> [Float] {
        let (hw, c) = (shape.height * shape.width, shape.channels)
        var out = [Float](repeating: 0, count: batch * hw)
        for n in 0..<batch {
            var alpha = [Double](repeating: 0, count: c)
            for p in 0..<hw { for k in 0..<c { alpha[k] += Double(gradient[(n * hw + p) * c + k]) } }
            for k in 0..<c { alpha[k] /= Double(hw) }
            for p in 0..<hw {
                var v = 0.0
                for k in 0..<c { v += alpha[k] * Double(activation[(n * hw + p) * c + k]) }
                out[n * hw + p] = Float(max(0, v))
            }
        }
        return out
    }

    /// Bilinear resize of [batch, h, w] maps, as PyTorch's `interpolate(mode: bilinear, align_corners: False)`.
    public static func upsample(_ maps: [Float], batch: Int, from: (Int, Int), to: (Int, Int)) -> [Float] {
        let (ih, iw) = from, (oh, ow) = to
        func source(_ o: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Float) {
            let s = max(0, (Float(o) + 0.5) * Float(inSize) / Float(outSize) - 0.5)
            let i0 = min(Int(s), inSize - 1)
            return (i0, min(i0 + 1, inSize - 1), s - Float(i0))
        }
        var out = [Float](repeating: 0, count: batch * oh * ow)
        for n in 0..<batch {
            let m = n * ih * iw
            for y in 0..<oh {
                let (y0, y1, fy) = source(y, ih, oh)
                for x in 0..<ow {
                    let (x0, x1, fx) = source(x, iw, ow)
                    let top = maps[m + y0 * iw + x0] * (1 - fx) + maps[m + y0 * iw + x1] * fx
                    let bottom = maps[m + y1 * iw + x0] * (1 - fx) + maps[m + y1 * iw + x1] * fx
                    out[(n * oh + y) * ow + x] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return out
    }
}
