/// A plate map that cannot be used, as one line: `platemap.csv: line 7: well B03 of plate P1 is
/// already on line 3`.
public struct PlateMapError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    /// 1-based line of the problem; nil for problems of the whole file (unreadable, empty).
    public let line: Int?
    public let problem: String

    public init(path: String, line: Int? = nil, problem: String) {
        self.path = path; self.line = line; self.problem = problem
    }

    public var description: String { line.map { "\(path): line \($0): \(problem)" } ?? "\(path): \(problem)" }
}
