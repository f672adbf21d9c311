import Foundation
import Imaging

/// Plate / well / field / experiment group from an image's file stem.
///
/// First the well-name patterns (`WellNaming`, config/wells.yaml: `plate01_B03`, `plate01_B03_f05`,
/// `21b_b3.2_1`), so prepare, segment and screen name wells alike: `21b_b3.2_1` → experiment and
/// plate `21b`, well `B03`, field `2_1` (the pattern's site); `plate01_B03_f05` → plate `plate01`,
/// well `B03`, field `5`. A stem no pattern parses falls back to a loose rule: the first
/// `_`-separated token is plate and group, the first later token starting with a well name
/// (row A–P, column) gives the well, the rest is the field; no well → well "" (such images still
/// split correctly by image or experiment).
public enum ImageNaming {
    public static func identity(forStem stem: String, naming: WellNaming = .standard) -> ImageIdentity {
        if let name = try? naming.parse(stem) {
            return ImageIdentity(name: stem, plate: name.plate, well: name.well,
                                 field: name.field.map(String.init) ?? name.site ?? "", group: name.experiment)
        }
        let tokens = stem.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard tokens.count >= 2 else {
            return ImageIdentity(name: stem, plate: stem, well: "", field: "", group: stem)
        }
        let plate = tokens[0]
        for i in 1..<tokens.count {
            if let (well, rest) = splitWell(tokens[i]) {
                var fieldParts: [String] = []
                let trimmed = rest.drop { $0 == "." || $0 == "-" }
                if !trimmed.isEmpty { fieldParts.append(String(trimmed)) }
                fieldParts.append(contentsOf: tokens[(i + 1)...])
                return ImageIdentity(name: stem, plate: plate, well: well, field: fieldParts.joined(separator: "_"),
                                     group: plate)
            }
        }
        return ImageIdentity(name: stem, plate: plate, well: "", field: tokens.dropFirst().joined(separator: "_"),
                             group: plate)
    }

    /// "b3.2" → ("B03", ".2"); "B03" → ("B03", ""); "b12x" → nil (a well is a row letter, 1–2 digits,
    /// then the end or a separator).
    static func splitWell(_ token: String) -> (String, Substring)? {
        let chars = Array(token)
        guard let first = chars.first, first.isASCII, first.isLetter,
              ("A"..."P").contains(first.uppercased()) else { return nil }
        var end = 1
        while end < chars.count, end <= 3, chars[end].isASCII, chars[end].isNumber { end += 1 }
        let digits = end - 1
        guard digits >= 1, digits <= 3 else { return nil }
        guard let column = Int(String(chars[1..<end])), column >= 1, column <= 48 else { return nil }
        if end < chars.count, chars[end] != ".", chars[end] != "-" { return nil }
        return (WellName.wellName(row: Int(first.uppercased().unicodeScalars.first!.value) - 65, column: column),
                token.dropFirst(end))
    }
}
