/// One tile of a `TiledANND`: where it is, how many points it holds and their ANND, or why it
/// was left out.
public struct TileANND: Equatable, Codable, Sendable {
    /// Why a tile has no ANND.
    public enum Exclusion: Equatable, Codable, Sendable, CustomStringConvertible {
        /// Fewer points than the minimum (the paper's 20 NETotic nuclei).
        case tooFewPoints(minimum: Int)

        public var description: String {
            switch self {
            case .tooFewPoints(let minimum): return "fewer than \(minimum) points"
            }
        }
    }

    /// Row (from the top) and column (from the left), from 0.
    public let row: Int
    public let column: Int
    /// Points whose centre lies in the tile.
    public let count: Int
    /// Mean nearest-neighbour distance among the tile's own points (px); nil when excluded.
    public let annd: Double?
    public let exclusion: Exclusion?

    public init(row: Int, column: Int, count: Int, annd: Double?, exclusion: Exclusion?) {
        self.row = row
        self.column = column
        self.count = count
        self.annd = annd
        self.exclusion = exclusion
    }

    /// (count, ANND) for comparisons; nil when excluded.
    public var sample: CountedANND? { annd.map { CountedANND(count: count, annd: $0) } }
}

/// A tile's point count with its ANND: the unit that count-matched comparisons resample.
public struct CountedANND: Equatable, Codable, Sendable {
    public let count: Int
    public let annd: Double

    public init(count: Int, annd: Double) {
        self.count = count
        self.annd = annd
    }
}
