/// A reduction in flight (an MPI request): `test` lets it progress, `wait` finishes it.
public protocol ReductionInFlight: AnyObject {
    @discardableResult func test() throws -> Bool
    func wait() throws
}

/// The gradient all-reduce of data-parallel training, overlapped with backward: the gradients are
/// cut into buckets of about `bucketFloats` from the end of the parameter list (backward finishes
/// the last layers first); as soon as the model reports (`Model.gradientsReady`) that a bucket's
/// gradients are final, the bucket is packed and its all-reduce started, while backward goes on
/// with earlier layers. `finish` starts what is left, waits for everything and unpacks the mean.
/// The sums are those of one all-reduce of the whole buffer, bucket by bucket.
public final class OverlappedGradients {
    public let gradients: GradientBuffer
    /// Parameter index ranges, last bucket of the list first (the order they become ready).
    public let buckets: [Range<Int>]
    private let start: (UnsafeMutableBufferPointer<Float>) throws -> ReductionInFlight
    private let index: [ObjectIdentifier: Int]
    private var inFlight: [ReductionInFlight] = []
    private var launched = 0, buffersLaunched = false
    private var failure: Error?

    /// `start` begins an in-place sum over the ranks of one slice of `gradients.buffer`.
    public init(parameters: [Parameter], buffers: [Parameter], bucketFloats: Int = 1 << 20,
                start: @escaping (UnsafeMutableBufferPointer<Float>) throws -> ReductionInFlight) {
        gradients = GradientBuffer(parameters: parameters, buffers: buffers)
        let trainable = gradients.parameters
        var ranges: [Range<Int>] = [], end = trainable.count, floats = 0
        for i in trainable.indices.reversed() {
            floats += trainable[i].count
            if floats >= bucketFloats || i == 0 { ranges.append(i..<end); end = i; floats = 0 }
        }
        buckets = ranges
        index = Dictionary(uniqueKeysWithValues: trainable.enumerated().map { (ObjectIdentifier($1), $0) })
        self.start = start
    }

    /// Readies the exchange for a new step's backward.
    public func begin() {
        precondition(inFlight.isEmpty, "a step began before the last one's exchange finished")
        launched = 0; buffersLaunched = false; failure = nil
    }

    /// `parameter` and every later one have their final gradients: start the buckets they complete,
    /// and let the ones in flight progress. Errors are kept for `finish` (backward cannot throw).
    public func ready(from parameter: Parameter) {
        guard failure == nil, let first = index[ObjectIdentifier(parameter)] else { return }
        do {
            // The running statistics are final since forward: they go out with the first bucket.
            if !buffersLaunched { try launchBuffers() }
            while launched < buckets.count && buckets[launched].lowerBound >= first { try launch(launched) }
            for request in inFlight { try request.test() }
        } catch { failure = error }
    }

    /// Starts whatever is left, waits for every bucket and writes the mean (`scale` = 1/ranks)
    /// back into the gradients and buffers.
    public func finish(scale: Float) throws {
        defer { inFlight.removeAll() }
        if let failure { throw failure }
        if !buffersLaunched { try launchBuffers() }
        while launched < buckets.count { try launch(launched) }
        for request in inFlight { try request.wait() }
        gradients.unpack(scale: scale)
    }

    private func launch(_ b: Int) throws {
        let range = buckets[b]
        gradients.pack(parameters: range)
        let offsets = gradients.offsets
        let slice = UnsafeMutableBufferPointer(rebasing: gradients.buffer[offsets[range.lowerBound]..<offsets[range.upperBound]])
        inFlight.append(try start(slice))
        launched += 1
    }

    private func launchBuffers() throws {
        buffersLaunched = true
        gradients.packBuffers()
        guard gradients.buffer.count > gradients.count, !gradients.buffers.isEmpty else { return }
        inFlight.append(try start(UnsafeMutableBufferPointer(rebasing: gradients.buffer[gradients.count...])))
    }
}
