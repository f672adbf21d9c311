/// Elementwise rectifier.
public enum ReLU {
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = x[i] < 0 ? 0 : x[i] }   // NaN propagates
    }

    /// dx = dy where the forward input was positive.
    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
    }
}
