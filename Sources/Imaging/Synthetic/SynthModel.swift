import Foundation

/// Parameters of the generative model, calibrated to the real sample (tools/measure_sample.py,
/// docs/synthetic.md). Intensities are in the sample's 8-bit units; the 16-bit output is
/// `offset + gain × value` before noise.
public struct SynthModel: Codable, Equatable, Sendable {
    /// 16-bit ADU per 8-bit unit, and the camera's dark offset (ADU).
    public var gain = 64.0
    public var offset = 100.0
    /// Shot noise: ADU per photo-electron (Poisson on signal / this); read noise SD in ADU.
    public var aduPerElectron = 4.0
    public var readNoise = 8.0
    /// Background level (8-bit units), drawn per well.
    public var backgroundMin = 1.5
    public var backgroundMax = 3.0
    /// Per-field vignetting depth (edge vs centre) and the well-wide linear gradient amplitude.
    public var vignetteMin = 0.10
    public var vignetteMax = 0.30
    public var gradient = 0.15
    /// Per-well brightness factor (log-normal SD).
    public var brightnessSigma = 0.15
    /// Nuclei per 672×512 field area, drawn uniformly per well.
    public var densityMin = 70.0
    public var densityMax = 130.0
    /// Expected "other" objects per nucleus, and the fraction of nuclei placed touching a neighbour.
    public var otherRate = 0.065
    public var touchingRate = 0.035
    /// Minimum gap (px) between the footprints of non-touching objects.
    public var gap = 4.0
    /// Non-NETotic: lobe-count weights for 2, 3, 4, 5 lobes; lobe Gaussian SD; lobe peak (median, log-SD).
    public var lobeWeights = [0.40, 0.35, 0.18, 0.07]
    public var lobeSigmaMin = 3.0
    public var lobeSigmaMax = 3.6
    public var lobePeak = 135.0
    public var lobePeakSigma = 0.28
    /// NETotic: radius (mean, SD), plateau level (median, log-SD), core / plateau ratio range.
    public var netRadius = 11.6
    public var netRadiusSD = 1.5
    public var netLevel = 40.0
    public var netLevelSigma = 0.3
    public var netCoreMin = 0.35
    public var netCoreMax = 0.9

    public init() {}

    /// The footprint threshold used for truth areas/radii and by the measurement: 25% of the peak.
    public static let footprintLevel = 0.25
}

/// Kinds of synthetic object; `cls` is the class the Cell Counter XML and truth tables give it.
public enum SynthKind: String, Codable, Sendable, CaseIterable {
    case nonNETotic = "non-netotic"
    case netotic = "netotic"
    case debris = "debris"
    case spreadNET = "spread-net"
    /// Necrotic nucleus (freeze wells of `synth --phenotypes` sets only).
    case necrotic = "necrotic"

    public var cls: NucleusClass {
        switch self {
        case .nonNETotic: return .nonNETotic
        case .netotic: return .netotic
        case .debris, .spreadNET, .necrotic: return .other
        }
    }

    /// Cell Counter marker type (1 non-NETotic, 2 NETotic, 3 necrotic, 4 other).
    public var markerType: Int {
        switch self {
        case .nonNETotic: return 1
        case .netotic: return 2
        case .necrotic: return 3
        case .debris, .spreadNET: return 4
        }
    }
}

/// One object's ground truth. x, y: centroid of its footprint (pixels ≥ 25% of its own peak, inside
/// the image), pixel coordinates (column, row) with pixel centres at integers.
public struct SynthObject: Codable, Equatable, Sendable {
    public var kind: SynthKind
    public var x: Double
    public var y: Double
    /// Footprint area (px) and equivalent radius sqrt(area/π).
    public var area: Int
    public var radius: Double
    /// Peak of the noise-free object (8-bit units, before illumination).
    public var peak: Double
    /// Lobes (non-NETotic), fragments (debris), else 1.
    public var lobes: Int
    /// Placed touching another object.
    public var touching: Bool
    /// Cluster id for clustered NETotic nuclei, −1 otherwise.
    public var cluster: Int

    public var cls: NucleusClass { kind.cls }
}

/// One synthetic well: its plate-map row, image, objects and true NETotic fraction.
public struct SynthWell: Sendable {
    public var row: PlateMapRow
    public var image: GrayImage
    public var objects: [SynthObject]
    /// 4PL expectation from the plate map; the drawn count is Binomial(nuclei, expected).
    public var expectedFraction: Double
    public var background: Double
    public var density: Double

    public func count(_ c: NucleusClass) -> Int { objects.count(c) }
    public var observedFraction: Double { objects.observedFraction }
}

extension Array where Element == SynthObject {
    public func count(_ c: NucleusClass) -> Int { filter { $0.cls == c }.count }
    /// NETotic / (NETotic + non-NETotic), 0 without either.
    public var observedFraction: Double {
        let n1 = count(.nonNETotic), n2 = count(.netotic)
        return n1 + n2 > 0 ? Double(n2) / Double(n1 + n2) : 0
    }
}
