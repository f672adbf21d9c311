import Foundation

/// One contiguous copy of every parameter gradient, for a single all-reduce per step in
/// data-parallel training: `pack` → all-reduce `buffer` in place → `unpack(scale: 1/ranks)`.
public final class GradientBuffer {
    public let parameters: [Parameter]
    /// Non-learnable tensors whose *values* ride along after the gradients (data-parallel training
    /// averages the BatchNorm running statistics in the same all-reduce).
    public let buffers: [Parameter]
    /// Floats of the gradients (the buffers' values follow them in `buffer`).
    public let count: Int
    public let buffer: UnsafeMutableBufferPointer<Float>

    public init(parameters: [Parameter], buffers: [Parameter] = []) {
        self.parameters = parameters.filter(\.trainable)
        self.buffers = buffers
        count = self.parameters.reduce(0) { $0 + $1.count }
        buffer = .allocate(capacity: max(count + buffers.reduce(0) { $0 + $1.count }, 1))
    }

    deinit { buffer.deallocate() }

    /// Where each parameter's gradient starts in `buffer` (one more entry: `count`).
    public private(set) lazy var offsets: [Int] = parameters.reduce(into: [0]) { $0.append($0.last! + $1.count) }

    /// Copies every gradient into `buffer` (in parameter order).
    public func pack() {
        pack(parameters: parameters.indices)
        packBuffers()
    }

    /// Copies the gradients of `parameters[range]` into their place in `buffer`.
    public func pack(parameters range: Range<Int>) {
        for i in range {
            parameters[i].grad.withUnsafeBufferPointer { g in
                (buffer.baseAddress! + offsets[i]).update(from: g.baseAddress!, count: g.count)
            }
        }
    }

    /// Copies the buffers' values after the gradients.
    public func packBuffers() {
        var offset = count
        for b in buffers {
            b.value.withUnsafeBufferPointer { v in (buffer.baseAddress! + offset).update(from: v.baseAddress!, count: v.count) }
            offset += b.count
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
        for b in buffers {
            b.value.withUnsafeMutableBufferPointer { v in
                for i in 0..<v.count { v[i] = buffer[offset + i] * scale }
            }
            offset += b.count
        }
    }
}
