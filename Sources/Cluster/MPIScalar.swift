import CMPI

/// Element types that travel through MPI buffers; each names its MPI datatype.
public protocol MPIScalar {
    static var mpiDatatype: MPI_Datatype { get }
}
extension Float: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_float() } }
extension Double: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_double() } }
extension Int32: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_int32() } }
extension Int64: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_int64() } }
extension UInt8: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_uint8() } }
extension UInt16: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_uint16() } }

/// Reductions supported by the all-reduce helpers.
public enum ReduceOperation: Sendable {
    case sum, max, min

    var handle: MPI_Op {
        switch self {
        case .sum: return cmpi_sum()
        case .max: return cmpi_max()
        case .min: return cmpi_min()
        }
    }
}

/// MPI counts are C ints; refuse buffers that would silently wrap.
func mpiCount(_ n: Int, _ operation: String) throws -> Int32 {
    guard n <= Int(Int32.max) else {
        throw MPIError(operation: operation, code: -1,
                       message: "buffer of \(n) elements exceeds MPI's 32-bit count; send it in pieces")
    }
    return Int32(n)
}
