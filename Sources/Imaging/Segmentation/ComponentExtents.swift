/// Per-label area, inclusive bounding box and border contact of a label image, in one raster pass.
/// Index k describes label k (index 0, background, is left empty).
struct ComponentExtents {
    var area: [Int]
    var minX: [Int], minY: [Int], maxX: [Int], maxY: [Int]
    var touchesBorder: [Bool]

    init(labels: [Int32], width w: Int, height h: Int, labelCount: Int) {
        let slots = labelCount + 1
        area = [Int](repeating: 0, count: slots)
        minX = [Int](repeating: Int.max, count: slots); minY = minX
        maxX = [Int](repeating: -1, count: slots); maxY = maxX
        touchesBorder = [Bool](repeating: false, count: slots)
        labels.withUnsafeBufferPointer { l in
            for y in 0..<h {
                let edgeRow = y == 0 || y == h - 1
                for x in 0..<w {
                    let k = Int(l[y * w + x])
                    if k == 0 { continue }
                    area[k] += 1
                    if x < minX[k] { minX[k] = x }; if x > maxX[k] { maxX[k] = x }
                    if y < minY[k] { minY[k] = y }; if y > maxY[k] { maxY[k] = y }
                    if edgeRow || x == 0 || x == w - 1 { touchesBorder[k] = true }
                }
            }
        }
    }
}
