import Foundation

/// One contiguous copy of every parameter gradient, for a single all-reduce per step in
/// data-parallel training: `pack` → all-reduce `buffer` in place → `unpack(scale: 1/ranks)`.
public final class GradientBuffer {
    public let parameters: [Parameter]
    public let count: Int
    public let buffer: UnsafeMutableBufferPointer<Float>

    public init(parameters: [Parameter]) {
        self.parameters = parameters.filter(\.trainable)
        count = self.parameters.reduce(0) { $0 + $1.count }
        buffer = .allocate(capacity: max(count, 1))
    }

    deinit { buffer.deallocate() }

    /// Copies every gradient into `buffer` (in parameter order).
    public func pack() {
        var offset = 0
        for p in parameters {
            p.grad.withUnsafeBufferPointer { g in (buffer.baseAddress! + offset).update(from: g.baseAddress!, count: g.count) }
            offset += p.count
        }
    }

    /// Copies `buffer`·scale back into the gradients.
    public func unpack(scale: Float = 1) {
        var offset = 0
        for p in parameters {
            p.grad.withUnsafeMutableBufferPointer { g in
                let src = buffer.baseAddress! + offset, dst = g.baseAddress!
                let n = g.count, nv = n & ~15
                var i = 0
                while i < nv { store(load(src + i) * scale, dst + i); i += 16 }
                while i < n { dst[i] = src[i] * scale; i += 1 }
            }
            offset += p.count
        }
    }
}
