import Determinism

extension DenseNet {
    /// norm5 → ReLU → global average pool → classifier (Linear), from the last block.
    public final class Head {
        public let norm5: BatchNorm2D, classifier: Dense

        init(features: Int, classes: Int, generator: inout SplitMix64) {
            norm5 = BatchNorm2D(name: "features/norm5", channels: features)
            classifier = Dense(name: "classifier", inFeatures: features, outFeatures: classes, generator: &generator)
        }

        var tensors: [Parameter] { norm5.parameters + norm5.state + classifier.parameters }

        /// Returns the logits [N, K].
        func forward(_ a: DenseNetActivations, from block: BlockActivations) -> UnsafeMutablePointer<Float> {
            let (n, c) = (block.batch, block.channels)
            let s = a.normed.reserve(block.rows * c)
            block.normalize(norm5, into: s, training: a.training)
            let pooled = a.pooled.reserve(n * c)
            GlobalAvgPool.forward(x: s, ldx: c, batch: n, pixels: block.height * block.width, channels: c, y: pooled)
            let logits = a.logits.reserve(n * classifier.outFeatures)
            classifier.forward(x: pooled, batch: n, y: logits)
            return logits
        }

        func backward(_ a: DenseNetActivations, logitsGradient: UnsafePointer<Float>, into block: BlockActivations) {
            let (n, c) = (block.batch, block.channels)
            let dPooled = a.pooledGradient.reserve(n * c)
            classifier.backward(x: a.pooled.pointer, batch: n, dy: logitsGradient, dx: dPooled)
            let ds = a.normedGradient.reserve(block.rows * c)
            GlobalAvgPool.backward(dy: dPooled, batch: n, pixels: block.height * block.width, channels: c,
                                   dx: ds, lddx: c)
            block.normBackward(norm5, dy: ds, accumulate: false)
        }
    }
}
