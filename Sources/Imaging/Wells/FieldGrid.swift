import Storage

/// The order in which a microscope writes the fields of one well.
public enum FieldOrder: String, Codable, Sendable, CaseIterable, ConfigChoice {
    /// Left to right along each row, rows top to bottom.
    case rowMajor = "row-major"
    /// Top to bottom down each column, columns left to right.
    case columnMajor = "column-major"
    /// Serpentine rows: row 0 left→right, row 1 right→left, …
    case snake
}

/// How a well's fields tile the stitched image: `columns` × `rows` fields of `fieldWidth` × `fieldHeight`.
/// The default is the paper's 6 × 6 grid of 672 × 512 fields (a 4032 × 3072 well).
public struct FieldGrid: Codable, Equatable, Sendable {
    public var columns: Int = 6
    public var rows: Int = 6
    public var fieldWidth: Int = 672
    public var fieldHeight: Int = 512
    public var order: FieldOrder = .rowMajor
    /// Index of the first field in file names (1: `_f01` … `_f36`).
    public var firstIndex: Int = 1

    public init(columns: Int = 6, rows: Int = 6, fieldWidth: Int = 672, fieldHeight: Int = 512,
                order: FieldOrder = .rowMajor, firstIndex: Int = 1) {
        self.columns = columns; self.rows = rows; self.fieldWidth = fieldWidth; self.fieldHeight = fieldHeight
        self.order = order; self.firstIndex = firstIndex
    }

    public var count: Int { columns * rows }
    public var wellWidth: Int { columns * fieldWidth }
    public var wellHeight: Int { rows * fieldHeight }

    /// Grid cell (column, row) of the field at 0-based acquisition position `k`.
    public func cell(ofPosition k: Int) -> (column: Int, row: Int) {
        precondition(k >= 0 && k < count, "field position \(k) outside a \(columns)×\(rows) grid")
        switch order {
        case .rowMajor:
            return (k % columns, k / columns)
        case .columnMajor:
            return (k / rows, k % rows)
        case .snake:
            let row = k / columns, i = k % columns
            return (row % 2 == 0 ? i : columns - 1 - i, row)
        }
    }

    /// Stitches fields given in acquisition order into one well image. All fields must have the grid's
    /// size and one bit depth; `names` (same order) are used in error messages.
    public func assemble(_ fields: [GrayImage], names: [String]? = nil) throws -> GrayImage {
        func name(_ k: Int) -> String { names.map { $0[k] } ?? "field \(k + firstIndex)" }
        guard fields.count == count else {
            throw ImageError(path: names?.first ?? "well", problem: "well has \(fields.count) fields; the \(columns)×\(rows) grid needs \(count)")
        }
        let depth = fields[0].bitDepth
        for (k, f) in fields.enumerated() {
            guard f.width == fieldWidth, f.height == fieldHeight else {
                throw ImageError(path: name(k), problem: "field is \(f.width)×\(f.height); the grid expects \(fieldWidth)×\(fieldHeight)")
            }
            guard f.bitDepth == depth else {
                throw ImageError(path: name(k), problem: "field is \(f.bitDepth)-bit but \(name(0)) is \(depth)-bit")
            }
        }
        var out = [UInt16](repeating: 0, count: wellWidth * wellHeight)
        let W = wellWidth, fw = fieldWidth
        out.withUnsafeMutableBufferPointer { dst in
            for (k, f) in fields.enumerated() {
                let (c, r) = cell(ofPosition: k)
                f.pixels.withUnsafeBufferPointer { src in
                    for y in 0..<fieldHeight {
                        (dst.baseAddress! + (r * fieldHeight + y) * W + c * fw)
                            .update(from: src.baseAddress! + y * fw, count: fw)
                    }
                }
            }
        }
        return GrayImage(width: wellWidth, height: wellHeight, bitDepth: depth, pixels: out)
    }

    /// Cuts a well image into fields, in acquisition order (the inverse of `assemble`).
    public func split(_ well: GrayImage) throws -> [GrayImage] {
        guard well.width == wellWidth, well.height == wellHeight else {
            throw ImageError(path: "well", problem: "image is \(well.width)×\(well.height); a \(columns)×\(rows) grid of \(fieldWidth)×\(fieldHeight) fields needs \(wellWidth)×\(wellHeight)")
        }
        return (0..<count).map { k in
            let (c, r) = cell(ofPosition: k)
            var px = [UInt16](repeating: 0, count: fieldWidth * fieldHeight)
            px.withUnsafeMutableBufferPointer { dst in
                well.pixels.withUnsafeBufferPointer { src in
                    for y in 0..<fieldHeight {
                        (dst.baseAddress! + y * fieldWidth)
                            .update(from: src.baseAddress! + (r * fieldHeight + y) * well.width + c * fieldWidth, count: fieldWidth)
                    }
                }
            }
            return GrayImage(width: fieldWidth, height: fieldHeight, bitDepth: well.bitDepth, pixels: px)
        }
    }
}
