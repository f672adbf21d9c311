/// How one cultured cell line looks in transmitted light: the seven styles of the synthetic
/// celldeath set (docs/celldeath.md "Synthetic data"). Sizes are in pixels at the image scale;
/// contrasts are fractions of the local background.
public struct CellLineStyle: Codable, Sendable, Equatable {
    /// A file-name token (no `_`).
    public var name: String
    /// Median equivalent radius (px) and its log-SD.
    public var radius: Double, radiusSpread: Double
    /// Median long/short axis ratio (1 round … 3 spindle).
    public var elongation: Double
    /// Fraction of the field the cells cover.
    public var coverage: Double
    /// Fraction of cells placed in clusters rather than uniformly.
    public var clustering: Double
    /// Bright halo just outside the membrane, dark membrane line, darker cytoplasm.
    public var halo: Double, membrane: Double, body: Double
    /// Cytoplasm texture amplitude and nucleus darkness.
    public var texture: Double, nucleus: Double
    /// How strongly the drug acts on this line: multiplies the altered fraction of treated images
    /// (a resistant line is hard to learn and hard to transfer to).
    public var susceptibility: Double

    /// The seven styles, from round cobblestone epithelium to spindle fibroblast-like cells.
    public static let presets: [CellLineStyle] = [
        .init(name: "cobble", radius: 9, radiusSpread: 0.12, elongation: 1.2, coverage: 0.55, clustering: 0.2,
              halo: 0.22, membrane: 0.18, body: 0.10, texture: 0.05, nucleus: 0.12, susceptibility: 1.0),
        .init(name: "spindle", radius: 8, radiusSpread: 0.15, elongation: 2.8, coverage: 0.45, clustering: 0.1,
              halo: 0.18, membrane: 0.15, body: 0.08, texture: 0.06, nucleus: 0.10, susceptibility: 1.0),
        .init(name: "polygon", radius: 11, radiusSpread: 0.18, elongation: 1.5, coverage: 0.6, clustering: 0.3,
              halo: 0.15, membrane: 0.22, body: 0.12, texture: 0.08, nucleus: 0.14, susceptibility: 0.9),
        .init(name: "smallround", radius: 6.5, radiusSpread: 0.10, elongation: 1.1, coverage: 0.40, clustering: 0.5,
              halo: 0.28, membrane: 0.20, body: 0.10, texture: 0.04, nucleus: 0.10, susceptibility: 1.0),
        .init(name: "flat", radius: 13, radiusSpread: 0.20, elongation: 1.4, coverage: 0.50, clustering: 0.1,
              halo: 0.10, membrane: 0.12, body: 0.06, texture: 0.10, nucleus: 0.16, susceptibility: 0.8),
        .init(name: "cluster", radius: 8.5, radiusSpread: 0.14, elongation: 1.3, coverage: 0.45, clustering: 0.85,
              halo: 0.20, membrane: 0.18, body: 0.11, texture: 0.06, nucleus: 0.12, susceptibility: 1.0),
        .init(name: "resistant", radius: 10, radiusSpread: 0.15, elongation: 1.6, coverage: 0.50, clustering: 0.2,
              halo: 0.16, membrane: 0.17, body: 0.09, texture: 0.07, nucleus: 0.12, susceptibility: 0.35),
    ]

    public static func preset(named name: String) -> CellLineStyle? { presets.first { $0.name == name } }
}
