import CMPI

/// A non-blocking all-reduce in flight (`Communicator.startAllReduce`).
public final class PendingReduce {
    private var request: MPI_Request?
    private let what: String

    init(request: MPI_Request?, what: String) { self.request = request; self.what = what }

    public var isComplete: Bool { request == nil }

    /// Lets MPI progress the reduction; true once it has completed.
    @discardableResult
    public func test() throws -> Bool {
        guard request != nil else { return true }
        var done: Int32 = 0
        try mpiCheck(MPI_Test(&request, &done, cmpi_status_ignore()), what + " (MPI_Test)")
        if done != 0 { request = nil }
        return done != 0
    }

    /// Blocks until the reduction has completed.
    public func wait() throws {
        guard request != nil else { return }
        try mpiCheck(MPI_Wait(&request, cmpi_status_ignore()), what + " (MPI_Wait)")
        request = nil
    }
}
