import Foundation

/// An aligned float buffer that grows on demand and never shrinks: activations and scratch
/// live in these so that a training step allocates nothing once the first step has run.
public final class FloatBuffer {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 16)
        pointer = FloatBuffer.allocate(self.capacity)
    }

    deinit { free(pointer) }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        posix_memalign(&raw, 64, count * MemoryLayout<Float>.stride)
        return raw!.bindMemory(to: Float.self, capacity: count)
    }

    /// Makes room for `count` floats (contents are discarded when it grows).
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            free(pointer)
            capacity = count
            pointer = FloatBuffer.allocate(count)
        }
        return pointer
    }

    public func zero(_ count: Int) { reserve(count).update(repeating: 0, count: count) }
}
