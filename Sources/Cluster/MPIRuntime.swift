import CMPI
import Foundation

/// Process-wide MPI state: initialised once, on first use of `Communicator.world`.
/// Works without mpirun too: OpenMPI then starts a 1-rank singleton.
public enum MPIRuntime {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var started = false

    /// Initialises MPI if nobody has (idempotent). Errors on the world communicator are
    /// returned as codes (MPI_ERRORS_RETURN) so they can become Swift errors.
    public static func initialize() throws {
        lock.lock(); defer { lock.unlock() }
        guard !started else { return }
        var already: Int32 = 0
        MPI_Initialized(&already)
        if already == 0 {
            var provided: Int32 = 0
            // FUNNELED: only the main thread calls MPI; worker threads do compute only.
            try mpiCheck(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided), "MPI_Init_thread")
        }
        try mpiCheck(MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()),
                     "MPI_Comm_set_errhandler")
        started = true
    }

    /// Finalises MPI if this process initialised it. Call once, at normal exit.
    public static func finalize() {
        lock.lock(); defer { lock.unlock() }
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if started && finalized == 0 { MPI_Finalize() }
    }

    /// The MPI library's own version text (e.g. "Open MPI v4.1.4, ...").
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&buffer, &length)
        let text = String(decoding: buffer.prefix(Int(length)).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                          as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).first.map(String.init)?
            .trimmingCharacters(in: .whitespaces) ?? text
    }

    /// Name of this node as MPI sees it.
    public static var processorName: String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_processor_name()) + 1)
        var length: Int32 = 0
        MPI_Get_processor_name(&buffer, &length)
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
