import Foundation
import Imaging
import TestSupport
import XCTest

/// The synthetic images themselves, measured the way tools/measure_sample.py measures the real sample
/// (8-bit units: (value − offset) / gain), against the real numbers recorded in docs/synthetic.md.
final class SynthImageStatisticsTests: XCTestCase {
    /// Real sample, 27 fields, tools/measure_sample.py: (p25, p75) of each per-object statistic.
    static let realRadius: [NucleusClass: ClosedRange<Double>] = [.nonNETotic: 7.20...8.37, .netotic: 10.97...13.03]
    static let realPeak: [NucleusClass: ClosedRange<Double>] = [.nonNETotic: 101...164, .netotic: 48...82]
    /// (p5, p95) of the equivalent radius: the synthetic p10 and p90 must fall inside.
    static let realRadiusSpread: [NucleusClass: ClosedRange<Double>] = [.nonNETotic: 6.41...9.44, .netotic: 9.82...15.12]
    /// Per field (p5, p95): background level and noise SD.
    static let realBackground = 1.0...4.7
    static let realNoise = 0.26...0.73

    struct Measured { var radius: Double; var peak: Double }

    /// Two wells: one mostly non-NETotic (DMSO), one mostly NETotic (high PMA), real field-pair size.
    static let wells: [SynthWell] = {
        let options = SynthSet.Options(seed: 8, plates: 1, wells: 12, width: 1344, height: 1024)
        let plan = PlateDesign.plateMap(plates: 1, wells: 12)
        let high = plan.firstIndex { $0.agonist == .pma && $0.concentration == 200 }!
        return [0, high].map { SynthSet.renderWell($0, plan: plan, options: options) }
    }()

    static func eightBit(_ well: SynthWell) -> [Double] {
        let m = SynthModel()
        return well.image.pixels.map { (Double($0) - m.offset) / m.gain }
    }

    static func mean3(_ v: [Double], _ w: Int, _ h: Int) -> [Double] {
        var out = v
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) {
                var s = 0.0
                for dy in -1...1 { for dx in -1...1 { s += v[(y + dy) * w + x + dx] } }
                out[y * w + x] = s / 9
            }
        }
        return out
    }

    /// Pixels farther than 6 px from every object's footprint.
    static func farFromObjects(_ well: SynthWell) -> [Bool] {
        let w = well.image.width, h = well.image.height
        var far = [Bool](repeating: true, count: w * h)
        for o in well.objects {
            let r = (o.kind == .spreadNET ? 2.0 : 1.5) * o.radius + 6
            for y in max(0, Int(o.y - r))...min(h - 1, Int(o.y + r)) {
                for x in max(0, Int(o.x - r))...min(w - 1, Int(o.x + r)) where (Double(x) - o.x) * (Double(x) - o.x) + (Double(y) - o.y) * (Double(y) - o.y) <= r * r {
                    far[y * w + x] = false
                }
            }
        }
        return far
    }

    static func median(_ a: [Double]) -> Double { let s = a.sorted(); return s[s.count / 2] }

    func testBackgroundAndNoiseMatchTheSample() {
        for well in Self.wells {
            let v = Self.eightBit(well), far = Self.farFromObjects(well), w = well.image.width
            var level: [Double] = [], diffs: [Double] = []
            for i in 0..<(v.count - 1) where far[i] && far[i + 1] && (i + 1) % w != 0 {
                level.append(v[i]); diffs.append(v[i + 1] - v[i])
            }
            let bg = Self.median(level)
            let md = Self.median(diffs)
            let noise = 1.4826 * Self.median(diffs.map { abs($0 - md) }) / 2.0.squareRoot()
            XCTAssertTrue(Self.realBackground.contains(bg), "background \(bg) (8-bit units)")
            XCTAssertTrue(Self.realNoise.contains(noise), "noise SD \(noise) (8-bit units)")
            // Uneven illumination: the background is not flat (vignetting, gradient) but within 2× across the well.
            let h = well.image.height
            var corners: [Double] = [], centre: [Double] = []
            for y in 0..<h { for x in 0..<w where far[y * w + x] {
                let u = Double(x % 672) / 672 - 0.5, t = Double(y % 512) / 512 - 0.5
                if abs(u) > 0.4 && abs(t) > 0.4 { corners.append(v[y * w + x]) }
                if abs(u) < 0.1 && abs(t) < 0.1 { centre.append(v[y * w + x]) }
            } }
            let ratio = Self.median(centre) / Self.median(corners)
            XCTAssertTrue(ratio > 1.03 && ratio < 2, "field centre / corner background \(ratio)")
        }
    }

    /// Per object: footprint at 25% of (peak − background) around the truth position, restricted to
    /// pixels nearer this object than any other (as tools/measure_sample.py does for markers).
    func testObjectSizesAndIntensitiesMatchTheSample() {
        var measured: [NucleusClass: [Measured]] = [:]
        var lobes: [Int] = []
        for well in Self.wells {
            let w = well.image.width, h = well.image.height
            let v = Self.mean3(Self.eightBit(well), w, h)
            let far = Self.farFromObjects(well)
            let base = Self.median(zip(v, far).filter { $0.1 }.map { $0.0 })
            for (k, o) in well.objects.enumerated() where o.cls != .other && !o.touching {
                let cx = Int(o.x.rounded()), cy = Int(o.y.rounded())
                var peak = -Double.infinity, px = cx, py = cy
                for y in max(0, cy - 4)...min(h - 1, cy + 4) { for x in max(0, cx - 4)...min(w - 1, cx + 4) where v[y * w + x] > peak {
                    peak = v[y * w + x]; px = x; py = y
                } }
                let level = base + 0.25 * (peak - base)
                let neighbours = well.objects.enumerated().filter { $0.offset != k && abs($0.element.x - o.x) < 80 && abs($0.element.y - o.y) < 80 }.map(\.element)
                func mine(_ x: Int, _ y: Int) -> Bool {
                    let d = (Double(x) - o.x) * (Double(x) - o.x) + (Double(y) - o.y) * (Double(y) - o.y)
                    return neighbours.allSatisfy { (Double(x) - $0.x) * (Double(x) - $0.x) + (Double(y) - $0.y) * (Double(y) - $0.y) >= d }
                }
                var seen = Set<Int>([py * w + px]), stack = [py * w + px], area = 0
                while let i = stack.popLast() {
                    area += 1
                    let x = i % w, y = i / w
                    for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, ny >= 0, nx < w, ny < h, abs(nx - cx) < 60, abs(ny - cy) < 60 else { continue }
                        let j = ny * w + nx
                        if !seen.contains(j) && v[j] > level && mine(nx, ny) { seen.insert(j); stack.append(j) }
                    }
                }
                measured[o.cls, default: []].append(Measured(radius: (Double(area) / .pi).squareRoot(), peak: peak - base))
                if o.cls == .nonNETotic { lobes.append(o.lobes) }
            }
        }
        for cls in [NucleusClass.nonNETotic, .netotic] {
            let m = measured[cls] ?? []
            XCTAssertGreaterThan(m.count, 100, cls.name)
            let r = Self.median(m.map(\.radius)), p = Self.median(m.map(\.peak))
            XCTAssertTrue(Self.realRadius[cls]!.contains(r), "\(cls.name): median radius \(r), real p25–p75 \(Self.realRadius[cls]!)")
            XCTAssertTrue(Self.realPeak[cls]!.contains(p), "\(cls.name): median peak \(p), real p25–p75 \(Self.realPeak[cls]!)")
            let radii = m.map(\.radius).sorted()
            let p10 = radii[radii.count / 10], p90 = radii[radii.count * 9 / 10]
            XCTAssertTrue(Self.realRadiusSpread[cls]!.contains(p10) && Self.realRadiusSpread[cls]!.contains(p90),
                          "\(cls.name): radius p10 \(p10), p90 \(p90); real p5–p95 \(Self.realRadiusSpread[cls]!)")
        }
        // NETotic nuclei are larger and dimmer than non-NETotic ones; non-NETotic have 2–5 lobes.
        XCTAssertGreaterThan(Self.median(measured[.netotic]!.map(\.radius)), 1.3 * Self.median(measured[.nonNETotic]!.map(\.radius)))
        XCTAssertLessThan(Self.median(measured[.netotic]!.map(\.peak)), 0.7 * Self.median(measured[.nonNETotic]!.map(\.peak)))
        XCTAssertEqual(Set(lobes), [2, 3, 4, 5])
    }

    /// A plain global threshold (3×3 mean, background + 8 units, 8-connected components) finds a
    /// foreground object at (within 2 px of) ≥ 98% of true nuclei, and most objects hold one nucleus.
    func testSimpleThresholdFindsNucleiAtTruthPositions() {
        for well in Self.wells {
            let w = well.image.width, h = well.image.height
            let v = Self.mean3(Self.eightBit(well), w, h)
            let far = Self.farFromObjects(well)
            let base = Self.median(zip(v, far).filter { $0.1 }.map { $0.0 })
            var labels = [Int32](repeating: 0, count: w * h)
            var next: Int32 = 0
            for start in 0..<(w * h) where labels[start] == 0 && v[start] > base + 8 {
                next += 1
                labels[start] = next
                var stack = [start]
                while let i = stack.popLast() {
                    let x = i % w, y = i / w
                    for dy in -1...1 { for dx in -1...1 {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, ny >= 0, nx < w, ny < h else { continue }
                        let j = ny * w + nx
                        if labels[j] == 0 && v[j] > base + 8 { labels[j] = next; stack.append(j) }
                    } }
                }
            }
            let nuclei = well.objects.filter { $0.cls != .other }
            var found = 0
            var hits: [Int32: Int] = [:]
            for o in nuclei {
                let cx = Int(o.x.rounded()), cy = Int(o.y.rounded())
                var label: Int32 = 0
                for y in max(0, cy - 2)...min(h - 1, cy + 2) { for x in max(0, cx - 2)...min(w - 1, cx + 2) where labels[y * w + x] > 0 {
                    label = labels[y * w + x]
                } }
                if label > 0 { found += 1; hits[label, default: 0] += 1 }
            }
            let fraction = Double(found) / Double(nuclei.count)
            XCTAssertGreaterThanOrEqual(fraction, 0.98, "\(well.row.image): \(found) of \(nuclei.count) nuclei under a threshold object")
            let shared = hits.values.filter { $0 > 1 }.reduce(0, +)
            XCTAssertLessThan(Double(shared) / Double(nuclei.count), 0.15, "\(well.row.image): \(shared) nuclei share an object")
        }
    }

    /// The recorded real ranges above are re-derived from the sample itself (when present; under CI it
    /// must be present): background and noise per field, and the peak under type-1 and type-2 markers.
    func testRecordedRealRangesMatchTheSampleData() throws {
        guard let sample = try sharedDataDirectory("netosis-sample") else { throw XCTSkip("netosis-sample not available") }
        let tiffs = try FileManager.default.contentsOfDirectory(atPath: sample.appendingPathComponent("tiff").path)
            .filter { $0.hasSuffix(".tif") }.sorted()
        XCTAssertEqual(tiffs.count, 27)
        var backgrounds: [Double] = [], noises: [Double] = []
        var peaks: [Int: [Double]] = [:]
        for name in tiffs {
            let stem = String(name.dropLast(4))
            let image = try TIFFReader.read(sample.appendingPathComponent("tiff/\(name)").path)
            let markers = try CellCounterXML.read(sample.appendingPathComponent("annotations/CellCounter_\(stem).xml").path).markers
            let w = image.width, h = image.height
            let v = image.pixels.map(Double.init)
            var far = [Bool](repeating: true, count: w * h)
            for m in markers {
                let mx = Int(m.x), my = Int(m.y)
                for y in max(0, my - 24)...min(h - 1, my + 24) { for x in max(0, mx - 24)...min(w - 1, mx + 24) { far[y * w + x] = false } }
            }
            var level: [Double] = [], residual: [Double] = []
            for y in stride(from: 2, to: h - 2, by: 2) { for x in stride(from: 2, to: w - 2, by: 2) where far[y * w + x] {
                var sum = 0.0
                for dy in -2...2 { for dx in -2...2 { sum += v[(y + dy) * w + x + dx] } }
                level.append(v[y * w + x]); residual.append(v[y * w + x] - sum / 25)
            } }
            guard level.count > 1000 else { continue }
            backgrounds.append(Self.median(level))
            let mr = Self.median(residual)
            noises.append(1.4826 * Self.median(residual.map { abs($0 - mr) }) * (25.0 / 24).squareRoot())
            for m in markers where m.type == 1 || m.type == 2 {
                let mx = Int(m.x), my = Int(m.y)
                guard mx >= 0, my >= 0, mx < w, my < h else { continue }
                var peak = 0.0
                for y in max(0, my - 4)...min(h - 1, my + 4) { for x in max(0, mx - 4)...min(w - 1, mx + 4) { peak = max(peak, v[y * w + x]) } }
                peaks[m.type, default: []].append(peak - Self.median(level))
            }
        }
        let bg = Self.median(backgrounds), noise = Self.median(noises)
        XCTAssertTrue(Self.realBackground.contains(bg), "real median background \(bg)")
        XCTAssertTrue(Self.realNoise.contains(noise), "real median noise \(noise)")
        let p1 = Self.median(peaks[1]!), p2 = Self.median(peaks[2]!)
        XCTAssertTrue(Self.realPeak[.nonNETotic]!.contains(p1), "real non-NETotic median peak \(p1)")
        XCTAssertTrue(Self.realPeak[.netotic]!.contains(p2), "real NETotic median peak \(p2)")
    }
}
