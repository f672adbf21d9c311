extension SequentialConfig {
    /// Built-in copies of config/models/{pl-stage1,phenotype}.yaml (a test keeps them equal).
    public static let presets: [String: SequentialConfig] = [
        "pl-stage1": SequentialConfig(name: "pl-stage1", inputSize: 32, layers:
            conv64 + conv64 + [.maxPool(kernel: 2, stride: 2), .dropout(rate: 0.25)] + conv64 + conv64
                + [.flatten, .dense(units: 256), .relu, .dense(units: 3), .softmax]),
        "phenotype": SequentialConfig(name: "phenotype", inputSize: 100, layers:
            (0..<3).flatMap { _ in conv64 + conv64 + conv64 + [.maxPool(kernel: 2, stride: 2), .dropout(rate: 0.25)] }
                + [.flatten, .dense(units: 256), .relu, .dense(units: 2), .softmax]),
    ]

    /// Keras' Conv2D(64, 3, activation="relu"): no padding, bias.
    private static let conv64: [LayerSpec] = [.conv(filters: 64, kernel: 3, stride: 1, padding: 0, bias: true), .relu]
}
