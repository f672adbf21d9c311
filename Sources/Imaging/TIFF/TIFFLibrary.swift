import CTIFF

public enum TIFFLibrary {
    /// "LIBTIFF, Version 4.5.0" (first line of libtiff's banner).
    public static var version: String {
        guard let text = TIFFGetVersion() else { return "unknown" }
        return String(cString: text).split(whereSeparator: \.isNewline).first.map(String.init) ?? "unknown"
    }
}
