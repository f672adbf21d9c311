/// A problem with one image file, phrased for the person who has to fix it:
/// "plate1/B03.tif: TIFF is RGB (3 samples per pixel); expected 8- or 16-bit greyscale".
public struct ImageError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path; self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
