import Foundation

extension Communicator {
    /// Runs `body` and turns a thrown error into a job-wide abort naming this rank,
    /// so a failure on one rank never leaves the others waiting in a collective.
    /// On a single rank it prints the error and exits with status 1 instead.
    public func runOrAbort(_ body: () throws -> Void) -> Never {
        do {
            try body()
            MPIRuntime.finalize()
            exit(0)
        } catch let request as RequeueRequest {
            // Every rank agreed to stop (collectively), so each leaves on its own: no abort.
            if rank == 0 { FileHandle.standardError.write(Data("netosis: \(request)\n".utf8)) }
            MPIRuntime.finalize()
            fflush(stdout)
            _exit(RequeueRequest.exitStatus)
        } catch {
            if size > 1 { abort(code: 1, message: "\(error)") }
            FileHandle.standardError.write(Data("netosis: error: \(error)\n".utf8))
            MPIRuntime.finalize()
            // Skip atexit handlers: after a failed write (full disk) HDF5's own library
            // shutdown can crash on the file it could not flush; nothing is left to save.
            fflush(stdout)
            _exit(1)
        }
    }
}
