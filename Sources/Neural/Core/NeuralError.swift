/// Errors of the neural engine, each naming what a user must fix.
public enum NeuralError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(tensor: String, file: String, expected: [Int], found: [Int])
    case missingTensor(tensor: String, file: String)
    case unreadableWeights(file: String, detail: String)
    case nonFiniteLoss(step: Int, value: Float)
    /// A checkpoint tensor with NaN/Inf values, found when loading or about to be saved.
    case nonFiniteWeights(file: String, tensor: String, count: Int, saving: Bool)
    case badInput(String)
    case badConfig(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(tensor, file, expected, found):
            return "\(file): tensor '\(tensor)' has shape \(found), the model expects \(expected)"
        case let .missingTensor(tensor, file):
            return "\(file): tensor '\(tensor)' is missing (the file does not match the model configuration)"
        case let .unreadableWeights(file, detail):
            return "\(file): cannot read weights (\(detail)); the file may be truncated or not a netosis checkpoint"
        case let .nonFiniteLoss(step, value):
            return "training stopped at step \(step): the loss is \(value) (not finite); lower the learning rate or check the input data"
        case let .nonFiniteWeights(file, tensor, count, saving):
            let values = "\(count) non-finite value\(count == 1 ? "" : "s") (NaN/Inf)"
            return saving
                ? "\(file): not written: tensor \(tensor) holds \(values); training diverged — lower the learning rate or resume from an earlier checkpoint"
                : "\(file): tensor \(tensor) holds \(values); the checkpoint is damaged or training diverged — use an earlier checkpoint"
        case let .badInput(message), let .badConfig(message):
            return message
        }
    }
}
