/// Whether a curve fit's numbers can be reported. A fit that is not `unambiguous` says why
/// instead of printing an EC50 (the rules are in docs/analysis.md).
public enum FitVerdict: Equatable, Sendable, CustomStringConvertible {
    case unambiguous
    /// Converged, but the data do not pin the parameters down; the reasons, one per problem.
    case ambiguous([String])
    /// The least-squares iteration did not converge (why).
    case notConverged(String)

    public var isUnambiguous: Bool { self == .unambiguous }

    public var description: String {
        switch self {
        case .unambiguous: return "unambiguous"
        case .ambiguous(let reasons): return "ambiguous: " + reasons.joined(separator: "; ")
        case .notConverged(let why): return "did not converge: " + why
        }
    }
}
