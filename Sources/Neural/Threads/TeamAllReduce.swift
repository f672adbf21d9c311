import Foundation
import Synchronization

/// A reusable barrier for the members of one thread team: spins briefly (the members run in step,
/// on cores of their own), then yields.
final class TeamBarrier: @unchecked Sendable {
    let size: Int
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)

    init(size: Int) { self.size = size }

    func wait() {
        let g = generation.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == size {
            arrived.store(0, ordering: .relaxed)
            generation.store(g + 1, ordering: .releasing)
            return
        }
        var spins = 0
        while generation.load(ordering: .acquiring) == g {
            spins += 1
            if spins > 2000 { sched_yield() }
        }
    }
}

/// Sums per-member Double vectors across the members of a thread team, in member order (the same
/// sum every time, whatever the timing), then optionally across MPI ranks (member 0 calls `outer`
/// on the in-process sum); every member gets the total. BatchNorm statistics of model replicas
/// go through it, so T threads normalise with the whole batch's statistics, as one thread would.
public final class TeamAllReduce: @unchecked Sendable {
    public let size: Int
    private let barrier: TeamBarrier
    private let slots: UnsafeMutablePointer<UnsafeMutablePointer<Double>?>
    private var total: [Double] = []
    private let outer: ((UnsafeMutablePointer<Double>, Int) -> Void)?

    public init(size: Int, outer: ((UnsafeMutablePointer<Double>, Int) -> Void)? = nil) {
        self.size = size
        barrier = TeamBarrier(size: size)
        slots = .allocate(capacity: size)
        slots.initialize(repeating: nil, count: size)
        self.outer = outer
    }

    deinit { slots.deallocate() }

    /// Called by every member with its `count` values; returns with each holding the total.
    public func sum(member: Int, _ values: UnsafeMutablePointer<Double>, count: Int) {
        slots[member] = values
        barrier.wait()
        if member == 0 {
            if total.count < count { total = [Double](repeating: 0, count: count) }
            for j in 0..<count { total[j] = values[j] }
            for m in 1..<size { let s = slots[m]!; for j in 0..<count { total[j] += s[j] } }
            if let outer { total.withUnsafeMutableBufferPointer { outer($0.baseAddress!, count) } }
        }
        barrier.wait()
        // Nobody writes `total` again before every member has passed the next call's first wait.
        total.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) }
    }

    /// A BatchNormSync for one member: batch statistics over `size` members (× `outerRanks` when
    /// `outer` also sums over ranks).
    public func batchNormSync(member: Int, outerRanks: Int = 1) -> BatchNormSync {
        BatchNormSync(ranks: size * outerRanks) { [self] values, count in sum(member: member, values, count: count) }
    }
}
