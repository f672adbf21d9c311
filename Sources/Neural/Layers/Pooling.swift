import Foundation

/// A square pooling window: kernel, stride and zero-padding, as in PyTorch.
public protocol PoolingWindow {
    var kernel: Int { get }
    var stride: Int { get }
    var padding: Int { get }
}

extension PoolingWindow {
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
    }
}

/// Max pooling over channels-last images (PyTorch semantics: padding never wins the max, and a
/// NaN does: a window holding NaN gives NaN, and its gradient goes to the last NaN scanned).
/// Forward records the argmax of every output so backward routes gradients without the input.
public final class MaxPool2D: PoolingWindow {
    public let kernel: Int, stride: Int, padding: Int
    private var argmax: [Int32] = []

    public init(kernel: Int, stride: Int, padding: Int = 0) {
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    /// x [n, h, w, c] (pixel stride ldx) → y [n, oh, ow, c] (pixel stride ldy).
    public func forward(x: UnsafePointer<Float>, ldx: Int, batch: Int, height: Int, width: Int, channels: Int,
                        y: UnsafeMutablePointer<Float>, ldy: Int) {
        let (oh, ow) = outputSize(height: height, width: width)
        let outputs = batch * oh * ow * channels
        if argmax.count < outputs { argmax = [Int32](repeating: 0, count: outputs) }
        Profiler.time(.pooling) {
            argmax.withUnsafeMutableBufferPointer { arg in
                let cv = vectorPart(channels)
                for n in 0..<batch {
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let o = (n * oh + oy) * ow + ox
                            let yr = y + o * ldy
                            let ar = arg.baseAddress! + o * channels
                            var c = 0
                            while c < cv {   // 16 channels at a time, argmax as a vector of pixel indices
                                var best = Vec(repeating: -.infinity)
                                var index = SIMD16<Int32>(repeating: -1)
                                for ky in 0..<kernel {
                                    let iy = oy * stride - padding + ky
                                    guard iy >= 0 && iy < height else { continue }
                                    for kx in 0..<kernel {
                                        let ix = ox * stride - padding + kx
                                        guard ix >= 0 && ix < width else { continue }
                                        let pixel = (n * height + iy) * width + ix
                                        let v = load(x + pixel * ldx + c)
                                        let better = (v .> best) .| (v .!= v)   // v .!= v: v is NaN
                                        best.replace(with: v, where: better)
                                        index.replace(with: SIMD16<Int32>(repeating: Int32(pixel)), where: better)
                                    }
                                }
                                store(best, yr + c)
                                UnsafeMutableRawPointer(ar + c).storeBytes(of: index, as: SIMD16<Int32>.self)
                                c += 16
                            }
                            for c in cv..<channels { yr[c] = -.infinity; ar[c] = -1 }
                            if cv < channels {
                                for ky in 0..<kernel {
                                    let iy = oy * stride - padding + ky
                                    guard iy >= 0 && iy < height else { continue }
                                    for kx in 0..<kernel {
                                        let ix = ox * stride - padding + kx
                                        guard ix >= 0 && ix < width else { continue }
                                        let pixel = (n * height + iy) * width + ix
                                        let xr = x + pixel * ldx
                                        for c in cv..<channels where xr[c] > yr[c] || xr[c].isNaN {
                                            yr[c] = xr[c]; ar[c] = Int32(pixel)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dx (zeroed here unless `accumulate`) receives each output gradient at its argmax.
    public func backward(dy: UnsafePointer<Float>, lddy: Int, batch: Int, height: Int, width: Int, channels: Int,
                         dx: UnsafeMutablePointer<Float>, lddx: Int, accumulate: Bool = false) {
        let (oh, ow) = outputSize(height: height, width: width)
        Profiler.time(.pooling) {
            if !accumulate {
                for p in 0..<batch * height * width { (dx + p * lddx).update(repeating: 0, count: channels) }
            }
            argmax.withUnsafeBufferPointer { arg in
                for o in 0..<batch * oh * ow {
                    let g = dy + o * lddy, ar = arg.baseAddress! + o * channels
                    for c in 0..<channels where ar[c] >= 0 { dx[Int(ar[c]) * lddx + c] += g[c] }
                }
            }
        }
    }
}

/// Average pooling (PyTorch's default count_include_pad = true).
public final class AvgPool2D: PoolingWindow {
    public let kernel: Int, stride: Int, padding: Int

    public init(kernel: Int, stride: Int, padding: Int = 0) {
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public func forward(x: UnsafePointer<Float>, ldx: Int, batch: Int, height: Int, width: Int, channels: Int,
                        y: UnsafeMutablePointer<Float>, ldy: Int) {
        let (oh, ow) = outputSize(height: height, width: width)
        let inv = 1 / Float(kernel * kernel)
        let cv = vectorPart(channels)
        Profiler.time(.pooling) {
            for n in 0..<batch {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let yr = y + ((n * oh + oy) * ow + ox) * ldy
                        yr.update(repeating: 0, count: channels)
                        for ky in 0..<kernel {
                            let iy = oy * stride - padding + ky
                            guard iy >= 0 && iy < height else { continue }
                            for kx in 0..<kernel {
                                let ix = ox * stride - padding + kx
                                guard ix >= 0 && ix < width else { continue }
                                let xr = x + ((n * height + iy) * width + ix) * ldx
                                var c = 0
                                while c < cv { store(load(yr + c) + load(xr + c), yr + c); c += 16 }
                                while c < channels { yr[c] += xr[c]; c += 1 }
                            }
                        }
                        for c in 0..<channels { yr[c] *= inv }
                    }
                }
            }
        }
    }

    public func backward(dy: UnsafePointer<Float>, lddy: Int, batch: Int, height: Int, width: Int, channels: Int,
                         dx: UnsafeMutablePointer<Float>, lddx: Int, accumulate: Bool = false) {
        let (oh, ow) = outputSize(height: height, width: width)
        let inv = 1 / Float(kernel * kernel)
        Profiler.time(.pooling) {
            if !accumulate {
                for p in 0..<batch * height * width { (dx + p * lddx).update(repeating: 0, count: channels) }
            }
            for n in 0..<batch {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let g = dy + ((n * oh + oy) * ow + ox) * lddy
                        for ky in 0..<kernel {
                            let iy = oy * stride - padding + ky
                            guard iy >= 0 && iy < height else { continue }
                            for kx in 0..<kernel {
                                let ix = ox * stride - padding + kx
                                guard ix >= 0 && ix < width else { continue }
                                let d = dx + ((n * height + iy) * width + ix) * lddx
                                for c in 0..<channels { d[c] += g[c] * inv }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Global average pooling: [n, h, w, c] → [n, c].
public enum GlobalAvgPool {
    public static func forward(x: UnsafePointer<Float>, ldx: Int, batch: Int, pixels: Int, channels: Int,
                               y: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(pixels)
        Profiler.time(.pooling) {
            for n in 0..<batch {
                let yr = y + n * channels
                yr.update(repeating: 0, count: channels)
                for p in 0..<pixels {
                    let xr = x + (n * pixels + p) * ldx
                    for c in 0..<channels { yr[c] += xr[c] }
                }
                for c in 0..<channels { yr[c] *= inv }
            }
        }
    }

    public static func backward(dy: UnsafePointer<Float>, batch: Int, pixels: Int, channels: Int,
                                dx: UnsafeMutablePointer<Float>, lddx: Int) {
        let inv = 1 / Float(pixels)
        Profiler.time(.pooling) {
            for n in 0..<batch {
                let g = dy + n * channels
                for p in 0..<pixels {
                    let d = dx + (n * pixels + p) * lddx
                    for c in 0..<channels { d[c] = g[c] * inv }
                }
            }
        }
    }
}
