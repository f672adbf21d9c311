/// Well names on a plate: a row letter A–P and a column 1–48, written with two digits (`b3`,
/// `B3`, `b03` → `B03`), the same rule as Imaging's `WellName.normaliseWell` for file names.
public enum PlateWell {
    /// The normalised name with its row (0 = A) and 1-based column, or nil for anything else.
    public static func normalise(_ text: String) -> (well: String, row: Int, column: Int)? {
        let scalars = Array(text.uppercased().unicodeScalars)
        guard let first = scalars.first, first.value >= 65, first.value <= 80 else { return nil }  // A…P
        let digits = scalars.dropFirst()
        guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy({ $0.value >= 48 && $0.value <= 57 }),
              let column = Int(String(String.UnicodeScalarView(digits))), column >= 1, column <= 48 else { return nil }
        return (String(Character(first)) + (column < 10 ? "0\(column)" : "\(column)"), Int(first.value) - 65, column)
    }
}
