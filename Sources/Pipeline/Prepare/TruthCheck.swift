import Foundation
import Imaging
import Storage

/// One nucleus (or piece of debris) with known class, from a synthetic plate's truth table.
public struct TruthObject: Equatable, Sendable {
    public var image: String
    public var x: Double
    public var y: Double
    public var label: NucleusClass
    /// Approximate radius in pixels, if the truth table gives one.
    public var radius: Double?

    public init(image: String, x: Double, y: Double, label: NucleusClass, radius: Double? = nil) {
        self.image = image; self.x = x; self.y = y; self.label = label; self.radius = radius
    }
}

/// Compares segmentation and patch labels with ground truth (synthetic plates, docs/prepare.md).
public enum TruthCheck {
    public struct Detection: Codable, Sendable {
        /// True nuclei (non-NETotic + NETotic) and how many lie on, or within the radius of, a segmented object.
        public var nuclei = 0
        public var found = 0
        public var fraction: Double { nuclei > 0 ? Double(found) / Double(nuclei) : 0 }
    }

    public struct Agreement: Codable, Sendable {
        public var patches = 0
        public var agreeing = 0
        /// confusion[truth][stored label]
        public var confusion = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
        public var fraction: Double { patches > 0 ? Double(agreeing) / Double(patches) : 0 }
    }

    /// Fraction of true nuclei the segmenter finds in one image: a nucleus counts as found when its
    /// centre lies on a segmented object or within `radius` pixels of one (the marker rule).
    public static func detection(segmentation: Segmentation, truth: [TruthObject], radius: Double) -> Detection {
        let nuclei = truth.filter { $0.label != .other }
        let markers = nuclei.map { Marker(x: $0.x, y: $0.y, type: $0.label.rawValue) }
        let assignment = PatchLabeler.assign(objects: segmentation.nuclei, labelImage: segmentation.labels,
                                             width: segmentation.width, height: segmentation.height,
                                             markers: markers, labelRadius: radius,
                                             classOf: { NucleusClass(rawValue: $0) })
        return Detection(nuclei: nuclei.count, found: assignment.stats.matchedMarkers)
    }

    /// Agreement of stored patch labels with the truth: a patch's true class is the class of the
    /// truth object whose centre is nearest the patch centre, if within `tolerance` (or its own
    /// radius, when larger); with no truth object that close the patch shows no real nucleus, class 0.
    public static func agreement(patchesFile path: String, truth: [TruthObject], tolerance: Double) throws -> Agreement {
        let file = try HDF5File.open(path)
        let labels: [Int8] = try file.read(PatchesSchema.labels)
        let centers: [Float] = try file.read(PatchesSchema.center)
        let imageIndex: [Int32] = try file.read(PatchesSchema.imageIndex)
        let names = try file.dataset("\(PatchesSchema.images)/name").readStrings()
        var byImage: [String: [TruthObject]] = [:]
        for t in truth { byImage[t.image, default: []].append(t) }
        var result = Agreement()
        for i in labels.indices {
            let name = names[Int(imageIndex[i])]
            let x = Double(centers[2 * i]), y = Double(centers[2 * i + 1])
            var best: TruthObject?
            var bestD = Double.infinity
            for t in byImage[name] ?? [] {
                let d = ((t.x - x) * (t.x - x) + (t.y - y) * (t.y - y)).squareRoot()
                if d <= max(tolerance, t.radius ?? 0) && d < bestD { bestD = d; best = t }
            }
            let truthLabel = best?.label.rawValue ?? 0
            let stored = Int(labels[i])
            result.patches += 1
            result.confusion[truthLabel][stored] += 1
            if truthLabel == stored { result.agreeing += 1 }
        }
        return result
    }
}
