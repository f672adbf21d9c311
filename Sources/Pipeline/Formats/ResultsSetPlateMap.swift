import Analysis
import Foundation

extension ResultsSet {
    /// The plate map to join onto these results: the file given (`--platemap`), else the map(s)
    /// `screen --platemap` kept in the results files. The maps of a job array's files (one per task)
    /// are merged when they share a header; a well listed twice with different treatments is an error.
    public func plateMap(given path: String?) throws -> PlateMap? {
        if let path { return try PlateMap.read(path) }
        let stored = files.compactMap(\.plateMap)
        guard let first = stored.first else { return nil }
        if stored.allSatisfy({ $0.text == first.text }) {
            return try PlateMap.parse(first.text, path: "\(first.path) (kept in the results file)")
        }
        let lines = stored.map { $0.text.split(whereSeparator: \.isNewline).map(String.init) }
        let header = lines[0].first ?? ""
        let names = Set(stored.map(\.path)).sorted().joined(separator: ", ")
        guard lines.allSatisfy({ $0.first == header }) else {
            throw PlateMapError(path: names, problem: "the results files keep plate maps with different columns; pass one --platemap")
        }
        var seen = Set<String>(), merged = [header]
        for body in lines { for line in body.dropFirst() where seen.insert(line).inserted { merged.append(line) } }
        return try PlateMap.parse(merged.joined(separator: "\n") + "\n", path: "plate maps kept in the results files (\(names))")
    }

    /// The plate map's wells on plates these results cover that no image reached (lost, skipped,
    /// not yet screened), in plate-map order.
    public func wellsWithoutImage(in map: PlateMap) -> [PlateMapEntry] {
        let plates = Set(rows.map(\.result.image.plate))
        let imaged = Set(rows.map { $0.result.image.plate + "\u{1}" + (PlateWell.normalise($0.result.image.well)?.well ?? $0.result.image.well) })
        return map.entries.filter { plates.contains($0.plate) && !imaged.contains($0.plate + "\u{1}" + $0.well) }
    }
}
