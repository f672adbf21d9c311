import Analysis
import Imaging

/// Applies `AgonistLabels` to one image's patch sites: the image's well is looked up in the plate map
/// (by the plate and well its name gives), and only sites labelled by a marker of a chosen type in a
/// well of a chosen agonist are kept, labelled by the agonist's class index.
struct AgonistRelabel {
    let settings: AgonistLabels
    let plateMap: PlateMap
    let classOf: [String: Int8]
    let types: Set<Int>

    init(_ settings: AgonistLabels, output: String) throws {
        self.settings = settings
        plateMap = try PlateMap.read(settings.platemap)
        guard !settings.agonists.isEmpty, settings.agonists.count <= 127, Set(settings.agonists).count == settings.agonists.count else {
            throw PrepareError(path: settings.platemap, problem: "--classes must name 1…127 different agonists (got \(settings.agonists))")
        }
        let present = Set(plateMap.entries.map(\.agonist))
        if let missing = settings.agonists.first(where: { !present.contains($0) }) {
            throw PrepareError(path: settings.platemap, problem: "has no well treated with '\(missing)' (agonists: \(present.sorted().joined(separator: ", ")))")
        }
        guard !settings.markerTypes.isEmpty else { throw PrepareError(path: output, problem: "--label-types names no marker type") }
        classOf = Dictionary(uniqueKeysWithValues: settings.agonists.enumerated().map { ($1, Int8($0)) })
        types = Set(settings.markerTypes)
    }

    /// The sites kept (index into `sites`, new label), and a warning when the image's well is not in the plate map.
    func labels(_ sites: [PatchSite], markers: [Marker], identity: ImageIdentity) -> (kept: [(site: Int, label: Int8)], warning: String?) {
        guard let entry = plateMap.entry(plate: identity.plate, well: identity.well) else {
            return ([], "\(identity.name): plate '\(identity.plate)' well '\(identity.well)' is not in \(settings.platemap); its nuclei are left out")
        }
        guard let label = classOf[entry.agonist] else { return ([], nil) }
        var kept: [(site: Int, label: Int8)] = []
        for (i, site) in sites.enumerated() {
            guard let m = site.markerIndex, markers.indices.contains(m), types.contains(markers[m].type) else { continue }
            kept.append((i, label))
        }
        return (kept, nil)
    }
}
