import XCTest
@testable import Neural

final class PoolingTests: XCTestCase {
    /// torch.nn.MaxPool2d: a window holding NaN gives NaN (whatever else it holds) and routes its
    /// gradient to the NaN (the last one scanned, row by row, when there are several); windows
    /// without NaN are unchanged. 17 channels: 16 take the vector path, the last the scalar one.
    func testMaxPoolPropagatesNaNLikePyTorch() {
        let pool = MaxPool2D(kernel: 2, stride: 2)
        let (h, c) = (4, 17)
        func at(_ y: Int, _ x: Int, _ ch: Int) -> Int { (y * h + x) * c + ch }
        var x = (0..<h * h * c).map { Float(($0 * 37) % 101) / 10 }
        let clean = x
        for ch in [3, 16] {
            x[at(0, 1, ch)] = .nan                         // window (0, 0): one NaN, then larger values
            x[at(1, 0, ch)] = 1000
            x[at(2, 2, ch)] = .nan; x[at(3, 2, ch)] = .nan // window (1, 1): two NaNs
        }
        var y = [Float](repeating: 0, count: 4 * c), dx = [Float](repeating: 0, count: x.count)
        let dy = (0..<4 * c).map { Float($0 + 1) }
        pool.forward(x: x, ldx: c, batch: 1, height: h, width: h, channels: c, y: &y, ldy: c)
        pool.backward(dy: dy, lddy: c, batch: 1, height: h, width: h, channels: c, dx: &dx, lddx: c)

        var expectedY = [Float](repeating: 0, count: 4 * c), expectedDx = [Float](repeating: 0, count: x.count)
        for o in 0..<4 {
            let (oy, ox) = (o / 2, o % 2)
            for ch in 0..<c {
                let window = [(0, 0), (0, 1), (1, 0), (1, 1)].map { at(2 * oy + $0.0, 2 * ox + $0.1, ch) }
                let source = [3, 16].contains(ch) ? x : clean
                let best = window.reduce(window[0]) { source[$1] > source[$0] ? $1 : $0 }
                expectedY[o * c + ch] = source[best]
                expectedDx[best] = dy[o * c + ch]
            }
        }
        for ch in [3, 16] {
            XCTAssertTrue(y[0 * c + ch].isNaN, "channel \(ch)"); XCTAssertTrue(y[3 * c + ch].isNaN, "channel \(ch)")
            expectedY[0 * c + ch] = .nan; expectedY[3 * c + ch] = .nan
            for p in [at(0, 0, ch), at(0, 1, ch), at(1, 0, ch), at(1, 1, ch),
                      at(2, 2, ch), at(2, 3, ch), at(3, 2, ch), at(3, 3, ch)] { expectedDx[p] = 0 }
            expectedDx[at(0, 1, ch)] = dy[0 * c + ch]
            expectedDx[at(3, 2, ch)] = dy[3 * c + ch]
        }
        XCTAssertEqual(y.map(\.bitPattern), expectedY.map(\.bitPattern))
        XCTAssertEqual(dx, expectedDx)
    }
}
