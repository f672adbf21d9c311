import Determinism

extension DenseNet {
    /// Dense layers, each adding k channels to the block's one buffer (see `BlockActivations`).
    public final class DenseBlock {
        public let layers: [DenseLayer]
        public let inChannels: Int, outChannels: Int

        init(name: String, layers count: Int, inChannels: Int, growth: Int, bottleneckSize: Int,
             generator: inout SplitMix64) {
            self.inChannels = inChannels
            outChannels = inChannels + count * growth
            layers = (0..<count).map { j in
                DenseLayer(name: "\(name)/denselayer\(j + 1)", inChannels: inChannels + j * growth, growth: growth,
                           bottleneckSize: bottleneckSize, generator: &generator)
            }
        }

        var tensors: [Parameter] { layers.flatMap(\.tensors) }

        /// Fills channels inChannels..<outChannels of `block` (its first inChannels are written already).
        func forward(_ a: DenseNetActivations, _ block: BlockActivations) {
            for (layer, saved) in zip(layers, block.bottlenecks) { layer.forward(a, in: block, saved: saved) }
        }

        /// From the gradient of every channel to that of the block input (first inChannels channels).
        /// `ready` hears of each layer as its gradients become final (see `Model.gradientsReady`).
        func backward(_ a: DenseNetActivations, _ block: BlockActivations, ready: ((Parameter) -> Void)? = nil) {
            for (layer, saved) in zip(layers, block.bottlenecks).reversed() {
                layer.backward(a, in: block, saved: saved)
                ready?(layer.norm1.weight)
            }
        }
    }
}
