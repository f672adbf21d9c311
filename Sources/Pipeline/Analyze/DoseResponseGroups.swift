import Analysis
import Foundation

/// One curve: the wells that share the `--group-by` values, its vehicle wells, and its fit (or why
/// there is none).
public struct DoseResponseGroup: Sendable {
    /// `agonist=PMA genotype=HbSS`, in --group-by order.
    public var label: String
    public var keys: [(column: String, value: String)]
    public var agonist: String
    public var unit: String
    /// Wells with concentration > 0 (the curve's points) and the vehicle wells shown apart.
    public var points: [WellResponse] = []
    public var vehicle: [WellResponse] = []
    /// The responses fitted (percent NETotic, or normalised 0–100), vehicle apart.
    public var data: DoseResponseData?
    public var fit: DoseResponseFit?
    /// Why there is no fit or no EC50 (one line), nil for a clean fit.
    public var problem: String?

    /// Distinct tested concentrations.
    public var concentrations: Int { Set(points.map(\.concentration)).count }
}

/// Splits wells into dose-response groups by plate-map columns. Vehicle wells (concentration 0) join
/// the groups of their own agonist, or, for a vehicle-only "agonist" such as DMSO, every group whose
/// other --group-by values they share (the paper's DMSO control is shown next to each agonist's curve).
public enum DoseResponseGrouping {
    /// The groups, and the vehicle wells that share no group's values (listed as left out).
    public static func groups(_ wells: [WellResponse], by columns: [String], plateMapColumns: [String])
    throws -> (groups: [DoseResponseGroup], unassigned: [WellResponse]) {
        guard !columns.isEmpty else { throw AnalyzeError("--group-by", "names no column") }
        for c in columns where !plateMapColumns.contains(c) {
            throw AnalyzeError("--group-by", "'\(c)' is not a plate-map column (columns: \(plateMapColumns.joined(separator: ", ")))")
        }
        func value(_ w: WellResponse, _ column: String) -> String {
            guard let i = plateMapColumns.firstIndex(of: column), i < w.treatment.fields.count else { return "" }
            return w.treatment.fields[i]
        }
        func key(_ w: WellResponse, without: String? = nil) -> [String] {
            columns.filter { $0 != without }.map { value(w, $0) }
        }
        var groups: [DoseResponseGroup] = [], index: [[String]: Int] = [:]
        for w in wells where !w.isVehicle {
            let k = key(w)
            if index[k] == nil {
                index[k] = groups.count
                let keys = zip(columns, k).map { (column: $0, value: $1) }
                groups.append(DoseResponseGroup(label: keys.map { "\($0.column)=\($0.value)" }.joined(separator: " "), keys: keys,
                                                agonist: w.treatment.agonist, unit: w.treatment.unit))
            }
            groups[index[k]!].points.append(w)
        }
        let agonistsWithCurves = Set(wells.filter { !$0.isVehicle }.map(\.treatment.agonist))
        let byAgonist = columns.contains("agonist")
        var unassigned: [WellResponse] = []
        for w in wells where w.isVehicle {
            var joined = false
            if !byAgonist || agonistsWithCurves.contains(w.treatment.agonist) {
                if let i = index[key(w)] { groups[i].vehicle.append(w); joined = true }
            } else {
                let k = key(w, without: "agonist")
                for i in groups.indices where key(groups[i].points[0], without: "agonist") == k { groups[i].vehicle.append(w); joined = true }
            }
            if !joined { unassigned.append(w) }
        }
        for i in groups.indices {
            let agonists = Set(groups[i].points.map(\.treatment.agonist)), units = Set(groups[i].points.map(\.treatment.unit))
            if agonists.count > 1 {
                groups[i].problem = "mixes agonists \(agonists.sorted().joined(separator: ", ")); add agonist to --group-by"
            } else if units.count > 1 {
                groups[i].problem = "mixes concentration units \(units.sorted().joined(separator: ", ")); give one unit per agonist"
            }
        }
        return (groups, unassigned)
    }
}
