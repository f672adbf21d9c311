/// A nonlinear least-squares problem: minimise Σ rᵢ(p)² over the parameters p, given the
/// residuals r(p) (model − data) and their Jacobian ∂rᵢ/∂pⱼ (rows: residuals, columns: parameters).
public struct LeastSquaresProblem {
    public let residualCount: Int
    public let parameterCount: Int
    public let residuals: ([Double]) -> [Double]
    public let jacobian: ([Double]) -> Matrix

    public init(residualCount: Int, parameterCount: Int,
                residuals: @escaping ([Double]) -> [Double], jacobian: @escaping ([Double]) -> Matrix) {
        self.residualCount = residualCount
        self.parameterCount = parameterCount
        self.residuals = residuals
        self.jacobian = jacobian
    }
}

/// Where Levenberg–Marquardt stopped and why.
public struct LeastSquaresSolution {
    public enum Termination: String, Equatable, Sendable {
        /// Converged: the step became negligible relative to the parameters.
        case smallStep = "the step became negligible"
        /// Converged: the gradient became orthogonal to the residuals (cosine below tolerance).
        case smallGradient = "the gradient vanished"
        /// Converged: actual and predicted relative reductions of the sum of squares both negligible.
        case smallReduction = "the sum of squares stopped decreasing"
        /// Converged: the residuals are exactly zero.
        case exactFit = "the residuals are zero"
        /// Not converged: the iteration limit was reached first.
        case iterationLimit = "the iteration limit was reached"
        /// Not converged: residuals or Jacobian not finite at the start point.
        case nonFinite = "the model is not finite at the starting values"
    }

    public let parameters: [Double]
    public let residuals: [Double]
    /// The Jacobian at `parameters`.
    public let jacobian: Matrix
    public let sumOfSquares: Double
    public let iterations: Int
    public let termination: Termination

    public var converged: Bool { termination != .iterationLimit && termination != .nonFinite }
}
