/// Why a statistic cannot be computed from the data it was given ("r is undefined: the manual
/// counts are all 3"), as a value the caller can report instead of a silent NaN.
public struct StatisticsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { problem }
}
