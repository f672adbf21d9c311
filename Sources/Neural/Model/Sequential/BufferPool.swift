/// Float buffers handed back and reused by a pass over many images of one size. A whole-field map is
/// tens to hundreds of MB; allocated afresh for every layer of every image, each one costs its pages'
/// first-touch faults again (here more than the arithmetic of a ReLU over it). A pool, reused from the
/// second image on, keeps the memory touched. Not thread-safe: one pass runs on one thread.
final class BufferPool {
    private var free: [[Float]] = []

    /// `count` zeros, in the smallest free buffer that holds them (or a new one).
    func take(_ count: Int) -> [Float] {
        var best: Int?
        for (i, buffer) in free.enumerated() where buffer.capacity >= count {
            if best == nil || buffer.capacity < free[best!].capacity { best = i }
        }
        guard let best else { return [Float](repeating: 0, count: count) }
        var buffer = free.remove(at: best)
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: repeatElement(0, count: count))
        return buffer
    }

    /// Returns a buffer the caller no longer uses.
    func give(_ buffer: [Float]) {
        guard buffer.capacity > 0 else { return }
        free.append(buffer)
    }
}
