import Foundation

/// Renders one transmitted-light photograph of a dense culture (the celldeath method's input):
/// cells as ellipses with a dark membrane, a bright phase halo, textured cytoplasm and a darker
/// nucleus with nucleoli, on an unevenly lit background, photographed by an RGB camera.
///
/// Altered ("dying") cells round up and shrink, their halo brightens (they start to detach) and
/// their nucleus turns granular (condensed chromatin). Untreated cultures hold a few rounded
/// (mitotic) cells too, with a bright halo but a smooth nucleus, so a treated image differs from a
/// control only by the fraction of altered cells: 0 makes the classes indistinguishable.
public struct TransmittedLightField {
    /// Per-experiment acquisition: lamp level, vignetting and white balance.
    public struct Acquisition: Codable, Sendable, Equatable {
        public var illumination: Double
        public var vignetting: Double
        public var tint: [Double]
        public init(illumination: Double, vignetting: Double, tint: [Double]) {
            self.illumination = illumination; self.vignetting = vignetting; self.tint = tint
        }
    }

    public struct Rendered {
        public var image: RGBImage
        public var cells: Int
        public var altered: Int
        public var rounded: Int
    }

    struct Cell {
        var x: Double, y: Double, a: Double, b: Double, angle: Double
        var halo: Double, body: Double
        var nucleusX: Double, nucleusY: Double
        /// Dark dots inside the nucleus: nucleoli, or condensed chromatin granules.
        var dots: [(x: Double, y: Double, r: Double, depth: Double)]
    }

    /// Fraction of untreated cells that are rounded (mitotic): a treated image must beat this.
    public static let roundedBaseline = 0.03

    public static func render(style: CellLineStyle, width: Int, height: Int, altered fraction: Double,
                              acquisition: Acquisition, random: inout SynthRandom) -> Rendered {
        let cells = place(style: style, width: width, height: height, random: &random)
        var shapes: [Cell] = []
        var altered = 0, rounded = 0
        for (x, y) in cells {
            let r = random.logNormal(median: style.radius, sigma: style.radiusSpread)
            let elongation = max(1, 1 + (style.elongation - 1) * random.uniform(0.6, 1.4))
            var cell = Cell(x: x, y: y, a: r * elongation.squareRoot(), b: r / elongation.squareRoot(),
                            angle: random.uniform(0, .pi), halo: style.halo * random.uniform(0.8, 1.2),
                            body: style.body * random.uniform(0.8, 1.2), nucleusX: 0, nucleusY: 0, dots: [])
            let u = random.unit()
            let isAltered = u < fraction
            let isRounded = !isAltered && u < fraction + roundedBaseline
            if isAltered || isRounded {
                let shrink = isAltered ? random.uniform(0.55, 0.8) : random.uniform(0.75, 0.9)
                cell.a = r * shrink; cell.b = r * shrink * random.uniform(0.9, 1)
                cell.halo *= random.uniform(1.8, 2.6)
                cell.body *= isAltered ? 0.4 : 0.7
            }
            let reach = 0.25 * min(cell.a, cell.b)
            cell.nucleusX = cell.x + random.uniform(-reach, reach)
            cell.nucleusY = cell.y + random.uniform(-reach, reach)
            let nucleusRadius = 0.45 * (cell.a * cell.b).squareRoot()
            if isAltered {
                altered += 1
                for _ in 0..<(5 + random.int(5)) {   // granular, condensed chromatin
                    let t = random.uniform(0, 2 * .pi), s = nucleusRadius * random.unit().squareRoot()
                    cell.dots.append((cell.nucleusX + s * cos(t), cell.nucleusY + s * sin(t), random.uniform(0.7, 1.2),
                                      style.nucleus * random.uniform(1.5, 2.5)))
                }
            } else {
                if isRounded { rounded += 1 }
                for _ in 0..<(1 + random.int(2)) {   // nucleoli
                    let t = random.uniform(0, 2 * .pi), s = 0.5 * nucleusRadius * random.unit()
                    cell.dots.append((cell.nucleusX + s * cos(t), cell.nucleusY + s * sin(t), random.uniform(1.0, 1.6),
                                      style.nucleus * random.uniform(0.6, 1.0)))
                }
            }
            shapes.append(cell)
        }

        let texture = smoothNoise(width: width, height: height, random: &random)
        var field = [Double](repeating: 0, count: width * height)
        for cell in shapes { draw(cell, style: style, texture: texture, width: width, height: height, into: &field) }

        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let norm = 1 / (cx * cx + cy * cy)
        let gradient = random.uniform(-0.05, 0.05)
        for y in 0..<height {
            for x in 0..<width {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let lamp = acquisition.illumination * (1 - acquisition.vignetting * (dx * dx + dy * dy) * norm)
                    * (1 + gradient * dx / cx)
                let value = lamp * (1 + field[y * width + x])
                for c in 0..<3 {
                    let v = (value * acquisition.tint[c] + 0.012 * random.normal()) * 255
                    pixels[(y * width + x) * 3 + c] = UInt8(max(0, min(255, v.rounded())))
                }
            }
        }
        return Rendered(image: RGBImage(width: width, height: height, pixels: pixels), cells: shapes.count,
                        altered: altered, rounded: rounded)
    }

    /// Cell centres: uniform, or around cluster seeds, never closer than 0.8 × the typical diameter.
    static func place(style: CellLineStyle, width: Int, height: Int, random: inout SynthRandom) -> [(Double, Double)] {
        let area = Double(width * height)
        let target = Int(style.coverage * area / (.pi * style.radius * style.radius))
        let seeds = (0..<max(1, target / 12)).map { _ in (random.uniform(0, Double(width)), random.uniform(0, Double(height))) }
        let minimum = 1.6 * style.radius * 0.8
        var cells: [(Double, Double)] = []
        var attempts = 0
        while cells.count < target && attempts < target * 30 {
            attempts += 1
            var x: Double, y: Double
            if random.unit() < style.clustering {
                let s = seeds[random.int(seeds.count)]
                x = s.0 + random.normal() * style.radius * 3; y = s.1 + random.normal() * style.radius * 3
            } else {
                x = random.uniform(0, Double(width)); y = random.uniform(0, Double(height))
            }
            guard x >= -style.radius, x < Double(width) + style.radius, y >= -style.radius, y < Double(height) + style.radius else { continue }
            if cells.contains(where: { ($0.0 - x) * ($0.0 - x) + ($0.1 - y) * ($0.1 - y) < minimum * minimum }) { continue }
            cells.append((x, y))
        }
        return cells
    }

    /// White noise smoothed twice by a 3×3 box: the cytoplasm's granularity (unit variance-ish).
    static func smoothNoise(width: Int, height: Int, random: inout SynthRandom) -> [Double] {
        var a = (0..<width * height).map { _ in random.normal() }
        var b = a
        for _ in 0..<2 {
            for y in 0..<height {
                for x in 0..<width {
                    var s = 0.0
                    for dy in -1...1 { for dx in -1...1 {
                        let yy = min(max(y + dy, 0), height - 1), xx = min(max(x + dx, 0), width - 1)
                        s += a[yy * width + xx]
                    } }
                    b[y * width + x] = s / 3   // ~unit SD after one pass of 9 terms
                }
            }
            swap(&a, &b)
        }
        return a
    }

    static func draw(_ cell: Cell, style: CellLineStyle, texture: [Double], width: Int, height: Int, into field: inout [Double]) {
        let haloOffset = 1.5, haloWidth = 1.6
        let margin = haloOffset + 3 * haloWidth
        let extent = max(cell.a, cell.b) + margin
        let x0 = max(0, Int((cell.x - extent).rounded(.down))), x1 = min(width - 1, Int((cell.x + extent).rounded(.up)))
        let y0 = max(0, Int((cell.y - extent).rounded(.down))), y1 = min(height - 1, Int((cell.y + extent).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let c = cos(cell.angle), s = sin(cell.angle)
        let scale = (cell.a * cell.b).squareRoot()
        let nucleusRadius = 0.45 * scale
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Double(x) - cell.x, dy = Double(y) - cell.y
                let u = c * dx + s * dy, v = -s * dx + c * dy
                let rho = ((u / cell.a) * (u / cell.a) + (v / cell.b) * (v / cell.b)).squareRoot()
                let d = (rho - 1) * scale   // ≈ signed distance to the membrane (px)
                guard d < margin else { continue }
                var value = 0.0
                if d < 0 {
                    value -= cell.body * min(1, -d / 2)
                    value += style.texture * texture[y * width + x]
                    let nx = Double(x) - cell.nucleusX, ny = Double(y) - cell.nucleusY
                    let rn = (nx * nx + ny * ny).squareRoot() / nucleusRadius
                    if rn < 1 { value -= style.nucleus * min(1, (1 - rn) * 3) }
                    for dot in cell.dots {
                        let ex = Double(x) - dot.x, ey = Double(y) - dot.y
                        value -= dot.depth * exp(-(ex * ex + ey * ey) / (2 * dot.r * dot.r))
                    }
                }
                value -= style.membrane * exp(-(d + 0.5) * (d + 0.5) / 1.28)
                if d > -1 { value += cell.halo * exp(-(d - haloOffset) * (d - haloOffset) / (2 * haloWidth * haloWidth)) }
                field[y * width + x] += value
            }
        }
    }
}
