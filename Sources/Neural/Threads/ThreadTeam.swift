import Foundation

/// A fixed set of threads that run one closure per member side by side and return when all have
/// finished; the caller's thread is member 0. Made once per process and kept (starting threads per
/// batch would cost more than small batches take). While a team runs, OpenBLAS is held at one thread
/// per caller, so its threads and ours never compete for a core (its spinning workers took the second
/// core from elementwise work before: docs/benchmarks.md).
public final class ThreadTeam: @unchecked Sendable {
    public let size: Int
    private let state: State
    private let oneRunAtATime = NSLock()

    /// What the workers share with the team; they hold it (not the team), so a team can go away:
    /// its deinit tells them to stop.
    private final class State: @unchecked Sendable {
        let wake: [DispatchSemaphore]
        let finished = DispatchSemaphore(value: 0)
        var job: ((Int) -> Void)?
        var stop = false
        init(workers: Int) { wake = (0..<workers).map { _ in DispatchSemaphore(value: 0) } }
    }

    public init(size: Int) {
        self.size = max(1, size)
        let state = State(workers: self.size - 1)
        self.state = state
        for member in 1..<self.size {
            let thread = Thread {
                while true {
                    state.wake[member - 1].wait()
                    if state.stop { return }
                    state.job!(member)
                    state.finished.signal()
                }
            }
            thread.name = "netosis-team-\(member)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    deinit {
        state.stop = true
        for w in state.wake { w.signal() }
    }

    /// Runs `body(member)` for every member concurrently (member 0 on this thread). Not reentrant:
    /// `body` must not run this team again.
    public func run(_ body: (Int) -> Void) {
        guard size > 1 else { body(0); return }
        oneRunAtATime.lock()
        defer { oneRunAtATime.unlock() }
        let blasThreads = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = blasThreads }
        withoutActuallyEscaping(body) { body in
            state.job = body
            for w in state.wake { w.signal() }
            body(0)
            for _ in 1..<size { state.finished.wait() }
            state.job = nil
        }
    }

    nonisolated(unsafe) private static var sharedTeam: ThreadTeam?
    private static let sharedLock = NSLock()

    /// The process's team, sized by `CoreBudget.current` unless `resize` chose otherwise.
    public static var shared: ThreadTeam {
        sharedLock.lock(); defer { sharedLock.unlock() }
        if let team = sharedTeam { return team }
        let team = ThreadTeam(size: CoreBudget.current.threads)
        sharedTeam = team
        return team
    }

    /// Replaces the shared team (e.g. `bench --threads N`); the old one's threads end.
    public static func resize(_ size: Int) {
        sharedLock.lock(); defer { sharedLock.unlock() }
        if sharedTeam?.size != size { sharedTeam = ThreadTeam(size: size) }
    }
}
