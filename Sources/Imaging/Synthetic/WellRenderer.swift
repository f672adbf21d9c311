import Determinism
import Foundation

/// Draws one synthetic well: places objects, renders them noise-free, applies uneven illumination
/// and Poisson–Gaussian noise, and measures each object's truth footprint.
public enum WellRenderer {
    /// Field size used for per-field vignetting (a stitched well shows the 6×6 tile pattern).
    static let fieldWidth = 672, fieldHeight = 512

    /// The objects of a well, placed but not drawn, and the random state drawing continues from.
    public struct Placement {
        var rng: SynthRandom
        var shapes: [Shape]
        public var expected: Double
        var density: Double
        var background: Double

        /// Truth of the placed objects as a results-only set gives it (no pixels): centre (of the lobes'
        /// mass for lobed objects, near the drawn footprint's centroid), footprint radius, nominal area
        /// π r², peak of the brightest lobe or plateau.
        public var objects: [SynthObject] {
            shapes.map { s in
                let peak = s.blobs.isEmpty ? s.level + s.core : s.blobs.map(\.peak).max() ?? 0
                var x = s.x, y = s.y
                let mass = s.blobs.reduce(0) { $0 + $1.peak * $1.sigma * $1.sigma }
                if mass > 0 {
                    x += s.blobs.reduce(0) { $0 + $1.dx * $1.peak * $1.sigma * $1.sigma } / mass
                    y += s.blobs.reduce(0) { $0 + $1.dy * $1.peak * $1.sigma * $1.sigma } / mass
                }
                return SynthObject(kind: s.kind, x: x, y: y, area: Int((Double.pi * s.extent * s.extent).rounded()),
                                   radius: s.extent, peak: peak, lobes: s.lobeCount, touching: s.touching, cluster: s.cluster)
            }
        }
    }

    /// Renders the well. Deterministic in (seed, plateIndex, wellIndex), `expected` (the 4PL
    /// fraction of the plate map unless a cohort's donor shifts it) and `phenotypes`, nothing else.
    public static func render(row: PlateMapRow, plateIndex: Int, wellIndex: Int, seed: UInt64,
                              width: Int, height: Int, model: SynthModel = SynthModel(), expected: Double? = nil,
                              phenotypes: Bool = false) -> SynthWell {
        let p = place(row: row, plateIndex: plateIndex, wellIndex: wellIndex, seed: seed, width: width, height: height,
                      model: model, expected: expected, phenotypes: phenotypes)
        return draw(p, row: row, width: width, height: height, model: model)
    }

    /// Draws the well's objects: how many of each kind (binomial on the expected fraction), their
    /// shapes and their positions (NETs of a clustering agonist around cluster centres). With
    /// `phenotypes`, NETs take their agonist's morphology and freeze wells hold necrotic nuclei
    /// (`Phenotypes`); without, not one random draw differs from sets made before phenotypes existed.
    public static func place(row: PlateMapRow, plateIndex: Int, wellIndex: Int, seed: UInt64,
                             width: Int, height: Int, model: SynthModel = SynthModel(), expected: Double? = nil,
                             phenotypes: Bool = false) -> Placement {
        var rng = SynthRandom(seed: seed, UInt64(plateIndex), UInt64(wellIndex))
        let expected = expected ?? PlateDesign.expectedFraction(row)
        let density = rng.uniform(model.densityMin, model.densityMax)
        let fieldArea = Double(fieldWidth * fieldHeight)
        let nNuclei = max(1, Int((density * Double(width * height) / fieldArea).rounded()))
        let nNecrotic = phenotypes && row.agonist == .freeze ? rng.binomial(nNuclei, Phenotypes.necroticShare) : 0
        let nNET = rng.binomial(nNuclei - nNecrotic, expected)
        let nOther = rng.binomial(nNuclei, model.otherRate)
        let brightness = exp(model.brightnessSigma * rng.normal())
        let background = rng.uniform(model.backgroundMin, model.backgroundMax)

        // Shapes, NETotic first (clusters need room), then non-NETotic, then other objects.
        var shapes: [Shape] = []
        for _ in 0..<nNET {
            shapes.append(phenotypes ? Shape.netotic(&rng, model, brightness, latent: Phenotypes.drawNET(&rng, agonist: row.agonist))
                                     : Shape.netotic(&rng, model, brightness))
        }
        for _ in 0..<(nNuclei - nNecrotic - nNET) { shapes.append(Shape.nonNETotic(&rng, model, brightness)) }
        for _ in 0..<nNecrotic { shapes.append(Shape.necrotic(&rng, brightness)) }
        let spreadShare = 0.2 + 0.5 * expected
        for _ in 0..<nOther {
            shapes.append(rng.unit() < spreadShare ? Shape.spreadNET(&rng, brightness) : Shape.debris(&rng, brightness))
        }

        var placer = Placer(width: width, height: height, gap: model.gap)
        let clustered = row.agonist.clustersNETs
        var clusterCentres: [(Double, Double)] = []
        if clustered && nNET > 0 {
            // About sqrt(n)/1.5 clusters: 3 of ~8 NETs at n = 25, 11 of ~23 at n = 250.
            let k = max(1, Int((Double(nNET).squareRoot() / 1.5).rounded()))
            for _ in 0..<k {
                clusterCentres.append((rng.uniform(0.1, 0.9) * Double(width), rng.uniform(0.1, 0.9) * Double(height)))
            }
        }
        var placed: [Shape] = []
        for var s in shapes {
            var ok = false
            let isNucleus = s.kind == .netotic || s.kind == .nonNETotic
            // A few nuclei are placed touching an already placed nucleus.
            if isNucleus && !placed.isEmpty && rng.unit() < model.touchingRate {
                for _ in 0..<20 {
                    let j = rng.int(placed.count)
                    guard placed[j].kind == .netotic || placed[j].kind == .nonNETotic else { continue }
                    let a = rng.uniform(0, 2 * .pi)
                    let d = (s.extent + placed[j].extent) * rng.uniform(0.72, 0.88)
                    let x = placed[j].x + d * cos(a), y = placed[j].y + d * sin(a)
                    if placer.fits(x, y, s.extent, ignoring: j) {
                        s.x = x; s.y = y; s.touching = true; placed[j].touching = true
                        ok = true
                        break
                    }
                }
            }
            if !ok && s.kind == .netotic && clustered {
                let c = rng.int(clusterCentres.count)
                // Spread grows with cluster size so a cluster's NETs can pack without overlapping.
                let perCluster = Double(nNET) / Double(clusterCentres.count)
                let spread = 1.1 * (s.extent + model.gap / 2) * perCluster.squareRoot()
                for _ in 0..<60 {
                    let x = clusterCentres[c].0 + spread * rng.normal(), y = clusterCentres[c].1 + spread * rng.normal()
                    if placer.fits(x, y, s.extent, ignoring: nil) { s.x = x; s.y = y; s.cluster = c; ok = true; break }
                }
            }
            if !ok {
                for _ in 0..<60 {
                    let x = rng.uniform(0, Double(width)), y = rng.uniform(0, Double(height))
                    if placer.fits(x, y, s.extent, ignoring: nil) { s.x = x; s.y = y; ok = true; break }
                }
            }
            guard ok else { continue }   // too crowded: the object is not drawn and not in the truth
            placer.add(s.x, s.y, s.extent)
            placed.append(s)
        }
        return Placement(rng: rng, shapes: placed, expected: expected, density: density, background: background)
    }

    /// Renders placed objects noise-free, measures their footprints, then illuminates and adds noise.
    static func draw(_ placement: Placement, row: PlateMapRow, width: Int, height: Int, model: SynthModel) -> SynthWell {
        var rng = placement.rng
        let placed = placement.shapes, background = placement.background

        // Noise-free signal (8-bit units, before illumination), and per-object footprints.
        var signal = [Float](repeating: 0, count: width * height)
        var objects: [SynthObject] = []
        objects.reserveCapacity(placed.count)
        var local: [Float] = []
        for s in placed {
            let r = s.extent + 3
            let x0 = max(0, Int((s.x - r).rounded(.down))), x1 = min(width - 1, Int((s.x + r).rounded(.up)))
            let y0 = max(0, Int((s.y - r).rounded(.down))), y1 = min(height - 1, Int((s.y + r).rounded(.up)))
            guard x1 >= x0, y1 >= y0 else { continue }
            let bw = x1 - x0 + 1, bh = y1 - y0 + 1
            if local.count < bw * bh { local = [Float](repeating: 0, count: bw * bh) }
            var peak: Float = 0
            local.withUnsafeMutableBufferPointer { buf in
                for j in 0..<bh {
                    let py = Double(y0 + j) - s.y
                    for i in 0..<bw {
                        let v = Float(s.value(Double(x0 + i) - s.x, py))
                        buf[j * bw + i] = v
                        if v > peak { peak = v }
                    }
                }
            }
            let level = Float(SynthModel.footprintLevel) * peak
            var area = 0, sx = 0.0, sy = 0.0
            local.withUnsafeBufferPointer { buf in
                signal.withUnsafeMutableBufferPointer { out in
                    for j in 0..<bh {
                        let rowBase = (y0 + j) * width + x0
                        for i in 0..<bw {
                            let v = buf[j * bw + i]
                            out[rowBase + i] += v
                            if v >= level && peak > 0 { area += 1; sx += Double(x0 + i); sy += Double(y0 + j) }
                        }
                    }
                }
            }
            guard area > 0 else { continue }
            objects.append(SynthObject(kind: s.kind, x: sx / Double(area), y: sy / Double(area), area: area,
                                       radius: (Double(area) / .pi).squareRoot(), peak: Double(peak), lobes: s.lobeCount,
                                       touching: s.touching, cluster: s.cluster))
        }

        // Illumination: per-field vignetting × a well-wide linear gradient.
        let fw = min(fieldWidth, width), fh = min(fieldHeight, height)
        let vignette = rng.uniform(model.vignetteMin, model.vignetteMax)
        let gx = rng.uniform(-model.gradient, model.gradient), gy = rng.uniform(-model.gradient, model.gradient)
        var ax = [Float](repeating: 0, count: width), bx = [Float](repeating: 0, count: width)
        var ay = [Float](repeating: 0, count: height), by = [Float](repeating: 0, count: height)
        for x in 0..<width {
            let u = (Double(x % fw) + 0.5) / Double(fw) * 2 - 1
            ax[x] = Float(0.5 * vignette * u * u)
            bx[x] = Float(gx * ((Double(x) + 0.5) / Double(width) - 0.5))
        }
        for y in 0..<height {
            let v = (Double(y % fh) + 0.5) / Double(fh) * 2 - 1
            ay[y] = Float(0.5 * vignette * v * v)
            by[y] = Float(gy * ((Double(y) + 0.5) / Double(height) - 0.5))
        }

        // Poisson–Gaussian noise into 16 bits.
        var pixels = [UInt16](repeating: 0, count: width * height)
        let gain = model.gain, k = model.aduPerElectron, offset = model.offset, read = model.readNoise
        let bg = Float(background)
        signal.withUnsafeBufferPointer { sig in
            pixels.withUnsafeMutableBufferPointer { out in
                for y in 0..<height {
                    let ayv = ay[y], byv = by[y]
                    for x in 0..<width {
                        let i = y * width + x
                        let illum = (1 - ax[x] - ayv) * (1 + bx[x] + byv)
                        let mean = Double((bg + sig[i]) * illum) * gain
                        let v = offset + k * rng.poisson(mean / k) + read * rng.normal()
                        out[i] = UInt16(min(65535, max(0, v.rounded())))
                    }
                }
            }
        }
        return SynthWell(row: row, image: GrayImage(width: width, height: height, bitDepth: 16, pixels: pixels),
                         objects: objects, expectedFraction: placement.expected, background: background, density: placement.density)
    }
}

/// Spatial hash of placed objects (centre + footprint radius) for non-overlapping placement.
struct Placer {
    let width: Int, height: Int, gap: Double
    let cell = 48.0
    let nx: Int, ny: Int
    var buckets: [[Int]]
    var items: [(x: Double, y: Double, r: Double)] = []
    var maxR = 0.0

    init(width: Int, height: Int, gap: Double) {
        self.width = width; self.height = height; self.gap = gap
        nx = max(1, Int((Double(width) / cell).rounded(.up))); ny = max(1, Int((Double(height) / cell).rounded(.up)))
        buckets = Array(repeating: [], count: nx * ny)
    }

    /// Inside the image (centre at least half a radius from the border) and clear of all others.
    func fits(_ x: Double, _ y: Double, _ r: Double, ignoring: Int?) -> Bool {
        let margin = max(3, 0.5 * r)
        guard x >= margin, y >= margin, x <= Double(width - 1) - margin, y <= Double(height - 1) - margin else { return false }
        let reach = r + maxR + gap
        let cx0 = max(0, Int((x - reach) / cell)), cx1 = min(nx - 1, Int((x + reach) / cell))
        let cy0 = max(0, Int((y - reach) / cell)), cy1 = min(ny - 1, Int((y + reach) / cell))
        for cy in cy0...cy1 {
            for cx in cx0...cx1 {
                for j in buckets[cy * nx + cx] where j != ignoring {
                    let o = items[j]
                    let need = r + o.r + gap
                    let dx = o.x - x, dy = o.y - y
                    if dx * dx + dy * dy < need * need { return false }
                }
            }
        }
        return true
    }

    mutating func add(_ x: Double, _ y: Double, _ r: Double) {
        let cx = min(nx - 1, max(0, Int(x / cell))), cy = min(ny - 1, max(0, Int(y / cell)))
        buckets[cy * nx + cx].append(items.count)
        items.append((x, y, r))
        maxR = max(maxR, r)
    }
}

/// One object's geometry and intensity model, evaluated relative to its centre.
struct Shape {
    var kind: SynthKind
    var x = 0.0, y = 0.0
    /// Footprint radius used for placement.
    var extent = 0.0
    var touching = false
    var cluster = -1
    /// Gaussian blobs (lobes, fragments): centre offset, SD, peak.
    var blobs: [(dx: Double, dy: Double, sigma: Double, peak: Double)] = []
    /// Round objects: mean radius, harmonic modulation, plateau level, core height, edge softness.
    var radius = 0.0
    var harmonics: [(k: Double, a: Double, phase: Double)] = []
    var level = 0.0, core = 0.0, coreSigma = 1.0, edge = 1.0
    /// Texture: smooth value noise (lattice `textureScale` px, keyed by `textureKey`) of relative depth.
    var textureKey: UInt64 = 0
    var textureScale = 3.0
    var textureDepth = 0.0
    /// Spread NETs: falloff towards the rim, and radial fibres (angle, length, level).
    var fibres: [(angle: Double, length: Double, level: Double)] = []

    var lobeCount: Int { kind == .nonNETotic || kind == .debris ? blobs.count : 1 }

    static func nonNETotic(_ rng: inout SynthRandom, _ m: SynthModel, _ brightness: Double) -> Shape {
        var s = Shape(kind: .nonNETotic)
        let n = 2 + rng.pick(m.lobeWeights)
        let sigma = rng.uniform(m.lobeSigmaMin, m.lobeSigmaMax)
        let peak = brightness * rng.logNormal(median: m.lobePeak, sigma: m.lobePeakSigma)
        // Lobes along a bending chain; redraw until no two non-neighbouring lobes overlap.
        var centres: [(Double, Double)] = []
        for _ in 0..<20 {
            centres = [(0, 0)]
            var angle = rng.uniform(0, 2 * .pi)
            for _ in 1..<n {
                let step = sigma * rng.uniform(1.25, 1.7)
                angle += rng.uniform(-1.7, 1.7)
                let last = centres[centres.count - 1]
                centres.append((last.0 + step * cos(angle), last.1 + step * sin(angle)))
            }
            var clear = true
            for i in 0..<n { for j in (i + 2)..<max(i + 2, n) where j < n {
                let dx = centres[i].0 - centres[j].0, dy = centres[i].1 - centres[j].1
                if dx * dx + dy * dy < (1.5 * sigma) * (1.5 * sigma) { clear = false }
            } }
            if clear { break }
        }
        let mx = centres.map { $0.0 }.reduce(0, +) / Double(n), my = centres.map { $0.1 }.reduce(0, +) / Double(n)
        for c in centres {
            s.blobs.append((c.0 - mx, c.1 - my, sigma * rng.uniform(0.9, 1.1), peak * rng.uniform(0.8, 1.1)))
        }
        s.extent = s.blobs.map { ($0.dx * $0.dx + $0.dy * $0.dy).squareRoot() + 1.7 * $0.sigma }.max()!
        return s
    }

    static func netotic(_ rng: inout SynthRandom, _ m: SynthModel, _ brightness: Double) -> Shape {
        var s = Shape(kind: .netotic)
        s.radius = min(17, max(8, m.netRadius + m.netRadiusSD * rng.normal()))
        s.harmonics = [(2, rng.uniform(0, 0.08), rng.uniform(0, 2 * .pi)), (3, rng.uniform(0, 0.05), rng.uniform(0, 2 * .pi))]
        s.level = brightness * rng.logNormal(median: m.netLevel, sigma: m.netLevelSigma)
        s.core = s.level * rng.uniform(m.netCoreMin, m.netCoreMax)
        s.coreSigma = s.radius * rng.uniform(0.3, 0.45)
        s.edge = rng.uniform(0.8, 1.3)
        s.textureKey = rng.next()
        s.textureScale = rng.uniform(2.5, 4.0)
        s.textureDepth = rng.uniform(0.10, 0.22)
        s.extent = s.radius * (1 + s.harmonics.map { $0.a }.reduce(0, +)) + 1.0
        return s
    }

    /// A NET of a phenotype set: the latent shape of its morphology (`Phenotypes`), the rest as `netotic`.
    static func netotic(_ rng: inout SynthRandom, _ m: SynthModel, _ brightness: Double, latent p: Phenotypes.Latent) -> Shape {
        var s = Shape(kind: .netotic)
        s.radius = p.radius
        s.harmonics = [(2, rng.uniform(0, 0.08), rng.uniform(0, 2 * .pi)), (3, rng.uniform(0, 0.05), rng.uniform(0, 2 * .pi))]
        s.level = brightness * rng.logNormal(median: m.netLevel, sigma: m.netLevelSigma)
        s.core = s.level * p.core
        s.coreSigma = s.radius * p.coreWidth
        s.edge = p.edge
        s.textureKey = rng.next()
        s.textureScale = rng.uniform(2.5, 4.0)
        s.textureDepth = p.texture
        s.extent = s.radius * (1 + s.harmonics.map { $0.a }.reduce(0, +)) + 1.0
        return s
    }

    /// A necrotic nucleus (freeze wells): swollen but smaller than a NET, bright and evenly stained,
    /// a sharp irregular edge, fine speckled texture, no central focus.
    static func necrotic(_ rng: inout SynthRandom, _ brightness: Double) -> Shape {
        var s = Shape(kind: .necrotic)
        s.radius = rng.uniform(6.5, 10)
        s.harmonics = [(2, rng.uniform(0, 0.12), rng.uniform(0, 2 * .pi)), (3, rng.uniform(0, 0.10), rng.uniform(0, 2 * .pi)),
                       (5, rng.uniform(0, 0.06), rng.uniform(0, 2 * .pi))]
        s.level = brightness * rng.logNormal(median: 75, sigma: 0.3)
        s.core = s.level * rng.uniform(0, 0.15)
        s.coreSigma = s.radius * 0.3
        s.edge = rng.uniform(0.35, 0.6)
        s.textureKey = rng.next()
        s.textureScale = rng.uniform(1.2, 2.0)
        s.textureDepth = rng.uniform(0.3, 0.5)
        s.extent = s.radius * (1 + s.harmonics.map { $0.a }.reduce(0, +)) + 1.0
        return s
    }

    static func debris(_ rng: inout SynthRandom, _ brightness: Double) -> Shape {
        var s = Shape(kind: .debris)
        let n = 1 + rng.int(6)
        let spread = rng.uniform(3, 8)
        for _ in 0..<n {
            let a = rng.uniform(0, 2 * .pi), d = n == 1 ? 0 : spread * rng.unit().squareRoot()
            s.blobs.append((d * cos(a), d * sin(a), rng.uniform(2.2, 3.8), brightness * rng.uniform(60, 190)))
        }
        s.extent = s.blobs.map { ($0.dx * $0.dx + $0.dy * $0.dy).squareRoot() + 1.7 * $0.sigma }.max()!
        return s
    }

    static func spreadNET(_ rng: inout SynthRandom, _ brightness: Double) -> Shape {
        var s = Shape(kind: .spreadNET)
        s.radius = rng.uniform(16, 28)
        s.harmonics = (2...5).map { (Double($0), rng.uniform(0, 0.14), rng.uniform(0, 2 * .pi)) }
        s.level = brightness * rng.uniform(14, 30)
        s.core = s.level * rng.uniform(0.2, 0.6)
        s.coreSigma = s.radius * 0.25
        s.edge = rng.uniform(1.5, 2.5)
        s.textureKey = rng.next()
        s.textureScale = rng.uniform(2.0, 3.5)
        s.textureDepth = rng.uniform(0.5, 0.8)
        let nf = 4 + rng.int(6)
        s.fibres = (0..<nf).map { _ in (rng.uniform(0, 2 * .pi), s.radius * rng.uniform(1.05, 1.35), s.level * rng.uniform(0.4, 0.8)) }
        s.extent = s.fibres.map { $0.length }.max()! + 1.5
        return s
    }

    /// Intensity (8-bit units) at offset (dx, dy) from the centre.
    @inline(__always)
    func value(_ dx: Double, _ dy: Double) -> Double {
        switch kind {
        case .nonNETotic, .debris:
            var v = 0.0
            for b in blobs {
                let ex = dx - b.dx, ey = dy - b.dy
                let d2 = ex * ex + ey * ey
                let limit = 4.0 * b.sigma
                if d2 > limit * limit { continue }
                v = max(v, b.peak * exp(-d2 / (2 * b.sigma * b.sigma)))
            }
            return v
        case .netotic, .spreadNET, .necrotic:
            let d = (dx * dx + dy * dy).squareRoot()
            if d > extent + 4 { return 0 }
            let theta = atan2(dy, dx)
            var r = radius
            for h in harmonics { r += radius * h.a * cos(h.k * theta + h.phase) }
            let body = 1 / (1 + exp((d - r) / edge))
            var inner = level
            if kind == .spreadNET { inner *= max(0.3, 1 - 0.6 * d / r) }
            let texture = 1 + textureDepth * Shape.valueNoise(textureKey, dx / textureScale, dy / textureScale)
            var v = (inner + core * exp(-d * d / (2 * coreSigma * coreSigma))) * body * max(0.1, texture)
            if kind == .spreadNET {
                for f in fibres where d <= f.length {
                    // Perpendicular distance to the fibre's ray.
                    let along = dx * cos(f.angle) + dy * sin(f.angle)
                    guard along > 0 else { continue }
                    let across = abs(-dx * sin(f.angle) + dy * cos(f.angle))
                    v = max(v, f.level * exp(-across * across / 1.0) * (1 - 0.5 * d / f.length))
                }
            }
            return v
        }
    }

    /// Smooth value noise in [−1, 1]: hashed lattice values, smoothstep-interpolated.
    @inline(__always)
    static func valueNoise(_ key: UInt64, _ x: Double, _ y: Double) -> Double {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let ix = Int64(fx), iy = Int64(fy)
        var tx = x - fx, ty = y - fy
        tx = tx * tx * (3 - 2 * tx); ty = ty * ty * (3 - 2 * ty)
        @inline(__always) func lattice(_ i: Int64, _ j: Int64) -> Double {
            let h = SplitMix64.mix(key ^ (UInt64(bitPattern: i) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(bitPattern: j) &* 0xC2B2_AE3D_27D4_EB4F))
            return Double(h >> 11) * 0x1.0p-52 - 1
        }
        let a = lattice(ix, iy), b = lattice(ix + 1, iy), c = lattice(ix, iy + 1), d = lattice(ix + 1, iy + 1)
        return (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty
    }
}
