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
public struct Saliency {
    public let net: SequentialNet
    /// The layer whose output Grad-CAM weighs (default: the last convolution, after its ReLU).
    public let layer: Int

    public init(_ model: any Model, layer: Int? = nil) throws {
        guard let net = model as? SequentialNet else {
            throw NeuralError.badConfig("saliency maps are built for sequential models; \(model.architecture) '\(model.name)' is not supported yet")
        }
        self.net = net
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

    /// Maps of `batch` channels-last images for the given classes (one per image).
    public func maps(_ images: [Float], batch: Int, classes: [Int], method: SaliencyMethod) -> [Float] {
        let config = net.config
        let (s, c, k) = (config.inputSize, config.inputChannels, config.numClasses)
        precondition(images.count == batch * s * s * c && classes.count == batch && classes.allSatisfy { (0..<k).contains($0) })
        var seed = [Float](repeating: 0, count: batch * k)
        for (i, cls) in classes.enumerated() { seed[i * k + cls] = 1 }   // d(Σ_i logit_i,class_i)
        var guided: [Float] = [], cam: [Float] = []
        images.withUnsafeBufferPointer { x in
            if method != .gradCAM {
                net.forward(x.baseAddress!, batch: batch, height: s, width: s, training: false)
                let dx = seed.withUnsafeBufferPointer { net.backward($0.baseAddress!, inputGradient: true, relu: .guided)! }
                guided = Array(UnsafeBufferPointer(start: dx, count: batch * s * s * c))
            }
            if method != .guidedBackprop {
                net.forward(x.baseAddress!, batch: batch, height: s, width: s, training: false)
                let shape = net.shapes[layer + 1]
                var gradient = [Float](repeating: 0, count: batch * shape.count)
                seed.withUnsafeBufferPointer { g in
                    gradient.withUnsafeMutableBufferPointer { _ = net.backward(g.baseAddress!, inputGradient: false, capture: layer, captured: $0.baseAddress!) }
                }
                let activation = Array(UnsafeBufferPointer(start: net.layerOutput(layer), count: batch * shape.count))
                cam = Self.upsample(Self.gradCAM(activation: activation, gradient: gradient, batch: batch, shape: shape),
                                    batch: batch, from: (shape.height, shape.width), to: (s, s))
            }
        }
        net.zeroGrad()   // backward accumulated parameter gradients nobody wants
        switch method {
        case .guidedBackprop: return guided
        case .gradCAM: return cam
        case .guidedGradCAM:
            for i in guided.indices { guided[i] *= cam[i / c] }
            return guided
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
