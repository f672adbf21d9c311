import CMPI

/// An MPI call that returned something other than MPI_SUCCESS, with MPI's own explanation.
public struct MPIError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public let message: String

    public var description: String { "\(operation) failed: \(message) (MPI error \(code))" }
}

/// The one place MPI return codes are checked. Requires MPI_ERRORS_RETURN on the communicator
/// (set by `MPIRuntime.initialize`), otherwise MPI aborts before we get to see the code.
@inline(__always)
func mpiCheck(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    guard rc != MPI_SUCCESS else { return }
    throw MPIError(operation: operation(), code: rc, message: mpiErrorString(rc))
}

func mpiErrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
    var length: Int32 = 0
    guard MPI_Error_string(code, &buffer, &length) == MPI_SUCCESS else { return "unknown MPI error" }
    return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
