import Determinism

extension ResNet {
    /// One residual block: out = ReLU(F(x) + shortcut(x)), F = conv-BN-ReLU-conv-BN (basic) or
    /// 1×1-BN-ReLU-3×3-BN-ReLU-1×1-BN (bottleneck, stride on the 3×3); the shortcut is the
    /// identity, or a strided 1×1 convolution + BN (torchvision's `downsample`) when the shape
    /// changes. Keeps its convolutions' outputs (pre-BN) and its activations for backward.
    public final class ResidualBlock {
        public let kind: ResNetConfig.Block
        public let inChannels: Int, outChannels: Int, stride: Int
        /// conv1…conv3 / bn1…bn3 (two of each for basic blocks).
        public let convs: [Conv2D], norms: [BatchNorm2D]
        public let downsample: (conv: Conv2D, norm: BatchNorm2D)?
        /// Pre-BN outputs of convs[i], post-BN(+ReLU) activations of norms[i] except the last,
        /// the shortcut's pre-BN output, and the block output.
        private let pre: [FloatBuffer], post: [FloatBuffer]
        private let shortcutPre = FloatBuffer(), output = FloatBuffer()
        private var outputSize = (height: 0, width: 0)
        /// Guided backprop: the final ReLU passes only positive gradients (saliency maps).
        var guided = false
        /// The last forward's output (the next block's input).
        var outputPointer: UnsafeMutablePointer<Float> { output.pointer }

        init(name: String, kind: ResNetConfig.Block, inChannels: Int, width: Int, stride: Int, generator: inout SplitMix64) {
            self.kind = kind; self.inChannels = inChannels; self.stride = stride
            outChannels = width * kind.expansion
            switch kind {
            case .basic:
                convs = [Conv2D(name: name + "/conv1", inChannels: inChannels, outChannels: width, kernel: 3, stride: stride,
                                padding: 1, generator: &generator),
                         Conv2D(name: name + "/conv2", inChannels: width, outChannels: width, kernel: 3, padding: 1,
                                generator: &generator)]
            case .bottleneck:
                convs = [Conv2D(name: name + "/conv1", inChannels: inChannels, outChannels: width, kernel: 1, generator: &generator),
                         Conv2D(name: name + "/conv2", inChannels: width, outChannels: width, kernel: 3, stride: stride,
                                padding: 1, generator: &generator),
                         Conv2D(name: name + "/conv3", inChannels: width, outChannels: width * 4, kernel: 1, generator: &generator)]
            }
            let made = convs
            norms = made.indices.map { BatchNorm2D(name: name + "/bn\($0 + 1)", channels: made[$0].outChannels) }
            if stride != 1 || inChannels != outChannels {
                downsample = (Conv2D(name: name + "/downsample/0", inChannels: inChannels, outChannels: outChannels, kernel: 1,
                                     stride: stride, generator: &generator),
                              BatchNorm2D(name: name + "/downsample/1", channels: outChannels))
            } else {
                downsample = nil
            }
            pre = made.map { _ in FloatBuffer() }
            post = made.dropLast().map { _ in FloatBuffer() }
        }

        /// torchvision's registration order: conv1, bn1, conv2, bn2, (conv3, bn3), downsample.
        var tensors: [Parameter] {
            zip(convs, norms).flatMap { $0.parameters + $1.parameters + $1.state }
                + (downsample.map { $0.conv.parameters + $0.norm.parameters + $0.norm.state } ?? [])
        }
        var batchNorms: [BatchNorm2D] { norms + (downsample.map { [$0.norm] } ?? []) }

        func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
            convs[kind == .basic ? 0 : 1].outputSize(height: height, width: width)
        }

        /// x [n·h·w, inChannels] → the block output [n·oh·ow, outChannels] (valid until the next forward).
        func forward(_ x: UnsafePointer<Float>, batch n: Int, height h: Int, width w: Int, training: Bool,
                     scratch: ResNet.Scratch) -> UnsafeMutablePointer<Float> {
            var input = x, (ih, iw) = (h, w), cin = inChannels
            let (oh, ow) = outputSize(height: h, width: w)
            outputSize = (oh, ow)
            let y = output.reserve(n * oh * ow * outChannels)
            for (i, (conv, norm)) in zip(convs, norms).enumerated() {
                let (ch, cw) = conv.outputSize(height: ih, width: iw)
                let rows = n * ch * cw, c = conv.outChannels
                let z = pre[i].reserve(rows * c)
                conv.forward(x: input, ldx: cin, batch: n, height: ih, width: iw, y: z, ldy: c, col: scratch.col)
                let last = i == convs.count - 1
                let a = last ? y : post[i].reserve(rows * c)
                norm.forward(x: z, ldx: c, rows: rows, y: a, ldy: c, relu: !last, training: training)
                input = UnsafePointer(a); (ih, iw) = (ch, cw); cin = c
            }
            let count = n * oh * ow * outChannels
            if let (conv, norm) = downsample {
                let z = shortcutPre.reserve(count), shortcut = scratch.a.reserve(count)
                conv.forward(x: x, ldx: inChannels, batch: n, height: h, width: w, y: z, ldy: outChannels, col: scratch.col)
                norm.forward(x: z, ldx: outChannels, rows: n * oh * ow, y: shortcut, ldy: outChannels, relu: false, training: training)
                ResNet.addReLU(y, UnsafePointer(shortcut), count: count)
            } else {
                ResNet.addReLU(y, x, count: count)
            }
            return y
        }

        /// From dLoss/d(output) (`dy`, overwritten: it becomes the gradient before the final ReLU) to
        /// dLoss/dx (overwritten) when `dx` is given, accumulating every parameter gradient. `x` is
        /// the forward's input (h × w).
        func backward(_ x: UnsafePointer<Float>, batch n: Int, height h: Int, width w: Int,
                      dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?, scratch: ResNet.Scratch) {
            let (oh, ow) = outputSize
            let count = n * oh * ow * outChannels
            let y = output.pointer
            for i in 0..<count where y[i] <= 0 || (guided && dy[i] < 0) { dy[i] = 0 }
            // Through F, last convolution first; g is the gradient of norms[i]'s output. The
            // gradient passed down alternates between two scratch buffers (never the one g is in).
            var sizes = [(height: h, width: w)]
            for conv in convs { sizes.append(conv.outputSize(height: sizes.last!.height, width: sizes.last!.width)) }
            var g = UnsafePointer(dy)
            for i in convs.indices.reversed() {
                let conv = convs[i], c = conv.outChannels
                let rows = n * sizes[i + 1].height * sizes[i + 1].width
                let dz = scratch.z.reserve(rows * c)
                norms[i].backward(x: pre[i].pointer, ldx: c, rows: rows, dy: g, lddy: c, dx: dz, lddx: c,
                                  accumulate: false, relu: i < convs.count - 1)
                let (ih, iw) = sizes[i]
                let input = i == 0 ? x : UnsafePointer(post[i - 1].pointer)
                let target = i == 0 ? dx : (i % 2 == 0 ? scratch.a : scratch.b).reserve(n * ih * iw * conv.inChannels)
                conv.backward(x: input, ldx: conv.inChannels, batch: n, height: ih, width: iw, dy: dz, lddy: c,
                              dx: target, lddx: conv.inChannels, col: scratch.col)
                if let target { g = UnsafePointer(target) }
            }
            // Through the shortcut, added to dx.
            if let (conv, norm) = downsample {
                let dz = scratch.z.reserve(count)
                norm.backward(x: shortcutPre.pointer, ldx: outChannels, rows: n * oh * ow, dy: dy, lddy: outChannels,
                              dx: dz, lddx: outChannels, accumulate: false, relu: false)
                conv.backward(x: x, ldx: inChannels, batch: n, height: h, width: w, dy: dz, lddy: outChannels,
                              dx: dx, lddx: inChannels, accumulate: true, col: scratch.col)
            } else if let dx {
                for i in 0..<count { dx[i] += dy[i] }
            }
        }

        /// Floats the block keeps for backward at this input size (`memoryBytes`).
        func keptFloats(batch n: Int, height h: Int, width w: Int) -> Int {
            var (ih, iw) = (h, w), floats = 0
            for (i, conv) in convs.enumerated() {
                (ih, iw) = conv.outputSize(height: ih, width: iw)
                floats += n * ih * iw * conv.outChannels * (i < convs.count - 1 ? 2 : 1)
            }
            return floats + n * ih * iw * outChannels * (downsample == nil ? 1 : 2)
        }
    }
}
