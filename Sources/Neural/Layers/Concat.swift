/// Channel concatenation of channels-last tensors (the dense block does it in place; this is
/// the general form).
public enum Concat {
    /// Inputs [rows, c_i] → output [rows, Σc_i].
    public static func forward(_ inputs: [Tensor]) -> Tensor {
        let rows = inputs[0].count / inputs[0].shape.last!
        let total = inputs.reduce(0) { $0 + $1.shape.last! }
        var out = [Float](repeating: 0, count: rows * total)
        var offset = 0
        for t in inputs {
            let c = t.shape.last!
            precondition(t.count / c == rows, "concat: inputs differ in spatial size")
            for r in 0..<rows { for j in 0..<c { out[r * total + offset + j] = t.scalars[r * c + j] } }
            offset += c
        }
        return Tensor(shape: Array(inputs[0].shape.dropLast()) + [total], scalars: out)
    }

    /// Splits the output gradient back into per-input gradients.
    public static func backward(_ dy: Tensor, channels: [Int]) -> [Tensor] {
        let total = dy.shape.last!, rows = dy.count / total
        var offset = 0
        return channels.map { c in
            var g = [Float](repeating: 0, count: rows * c)
            for r in 0..<rows { for j in 0..<c { g[r * c + j] = dy.scalars[r * total + offset + j] } }
            offset += c
            return Tensor(shape: Array(dy.shape.dropLast()) + [c], scalars: g)
        }
    }
}
