import Foundation
import Imaging
import Storage

/// results.h5 written straight from a synthetic set's truth (`synth --results-only`): what a perfect
/// screen of the set would write, with no image drawn, so cohort-scale analyses run in seconds.
/// Positions and classes are the truth's; the morphology columns are the objects' nominal values
/// (area π r², intensity = peak, solidity 1) and the probabilities one-hot.
enum TruthResults {
    /// The identity every truth results file of a set carries: method `truth`, and the SHA-256 of
    /// the set's options standing in for a checkpoint, so files of one set merge and files of two never do.
    static func identity(_ options: SynthSet.Options) throws -> ScreenIdentity {
        var sha = SHA256()
        sha.update(try ResultsFile.encoder().encode(options))
        return ScreenIdentity(checkpoint: "synthetic truth (netosis synth --results-only, seed \(options.seed))",
                              checkpointSHA256: sha.hexDigest(), model: "{}", segmentation: SegmentationConfig(),
                              method: "truth", normalization: "none", patchSize: 0, classes: ScreenClasses.names)
    }

    /// The results row of one well: every placed object with its true class.
    static func result(_ row: PlateMapRow, _ objects: [SynthObject], options: SynthSet.Options, checkpointID: String, rank: Int) -> ScreenResult {
        var o = ObjectRows()
        var counts = [0, 0, 0]
        let k = ScreenClasses.names.count
        for object in objects {
            let c = object.cls.rawValue
            counts[c] += 1
            o.x.append(Float(object.x)); o.y.append(Float(object.y))
            let r = object.radius
            o.bbox += [Int32(max(0, (object.x - r).rounded(.down))), Int32(max(0, (object.y - r).rounded(.down))),
                       Int32(min(Double(options.width - 1), (object.x + r).rounded(.up))),
                       Int32(min(Double(options.height - 1), (object.y + r).rounded(.up)))]
            o.area.append(Int32(object.area)); o.intensity.append(Float(object.peak)); o.solidity.append(1)
            o.classes.append(Int8(c))
            var p = [Float](repeating: 0, count: k); p[c] = 1
            o.probabilities += p
        }
        let n = max(objects.count, 1)
        let image = ScreenedImage(name: row.image, plate: row.plate, well: row.well, field: "", path: "truth_nuclei.csv",
                                  status: "ok", error: "", width: options.width, height: options.height, counts: counts,
                                  meanProbabilities: objects.isEmpty ? [.nan, .nan, .nan] : counts.map { Double($0) / Double(n) },
                                  checkpointID: checkpointID, seconds: 0, rank: rank)
        return ScreenResult(image: image, objects: o)
    }

    /// Writes OUT/results/<plate>.h5 for every plate (atomically), each keeping its plate's rows of platemap.csv.
    static func write(_ results: [ScreenResult], options: SynthSet.Options, to out: String) throws {
        let identity = try identity(options)
        let byPlate = Dictionary(grouping: results, by: \.image.plate)
        let plan = Dictionary(grouping: options.plan, by: \.plate)
        for plate in options.platesWithWells {
            let map = ([SynthSet.platemapHeader] + plan[plate, default: []].map(SynthSet.platemapRow))
                .joined(separator: "\n") + "\n"
            try AtomicFile.write(to: "\(out)/results/\(plate).h5") { temporary in
                try ResultsFile.write(byPlate[plate] ?? [], identity: identity, plateMap: (map, "\(out)/platemap.csv"), to: temporary)
            }
        }
    }
}
