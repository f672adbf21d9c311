extension SequentialConfig {
    /// Built-in copies of config/models/{pl-stage1,pl-stage1-narrow,pl-stage2,pl-stage2-pooled,phenotype,phenotype-narrow}.yaml (a test keeps them equal).
    public static let presets: [String: SequentialConfig] = [
        "pl-stage1": SequentialConfig(name: "pl-stage1", inputSize: 32, inputNormalization: .image, layers:
            conv64 + conv64 + [.maxPool(kernel: 2, stride: 2), .dropout(rate: 0.25)] + conv64 + conv64
                + [.flatten, .dense(units: 256), .relu, .dense(units: 3), .softmax]),
        // Stage 2 reads the 481×641×3 maps of a 512×672 field (the paper says 480×640).
        "pl-stage2": SequentialConfig(name: "pl-stage2", inputChannels: 3, inputSize: 481, inputWidth: 641, layers:
            conv32 + [.avgPool(kernel: 2, stride: 2)] + conv32 + [.maxPool(kernel: 2, stride: 2)]
                + [.flatten, .dense(units: 256), .relu, .dense(units: 2)]),
        // The small variant reads the 512×672×3 maps of `maps --border reflect`.
        "pl-stage2-pooled": SequentialConfig(name: "pl-stage2-pooled", inputChannels: 3, inputSize: 512, inputWidth: 672, layers:
            conv32 + [.avgPool(kernel: 2, stride: 2)] + conv32 + [.maxPool(kernel: 2, stride: 2)]
                + [.globalSumPool, .dense(units: 256), .relu, .dense(units: 2)]),
        "pl-stage1-narrow": SequentialConfig(name: "pl-stage1-narrow", inputSize: 32, inputNormalization: .image, layers:
            conv(16) + conv(16) + [.maxPool(kernel: 2, stride: 2), .dropout(rate: 0.25)] + conv(32) + conv(32)
                + [.flatten, .dense(units: 32), .relu, .dense(units: 3), .softmax]),
        "phenotype": SequentialConfig(name: "phenotype", inputSize: 100, layers:
            (0..<3).flatMap { _ in conv64 + conv64 + conv64 + [.maxPool(kernel: 2, stride: 2), .dropout(rate: 0.25)] }
                + [.flatten, .dense(units: 256), .relu, .dense(units: 2), .softmax]),
        "phenotype-narrow": SequentialConfig(name: "phenotype-narrow", inputSize: 48, layers:
            [16, 32, 32].flatMap { conv($0) + conv($0) + [.maxPool(kernel: 2, stride: 2), .dropout(rate: 0.25)] }
                + [.flatten, .dense(units: 64), .relu, .dense(units: 2), .softmax]),
    ]

    /// Keras' Conv2D(64, 3, activation="relu"): no padding, bias.
    private static func conv(_ filters: Int) -> [LayerSpec] { [.conv(filters: filters, kernel: 3, stride: 1, padding: 0, bias: true), .relu] }
    private static let conv32: [LayerSpec] = [.conv(filters: 32, kernel: 3, stride: 1, padding: 0, bias: true), .relu]
    private static let conv64: [LayerSpec] = [.conv(filters: 64, kernel: 3, stride: 1, padding: 0, bias: true), .relu]
}
