import CMPI
import Foundation

/// A group of ranks that talk to each other: MPI_COMM_WORLD or a split of it.
///
/// Every operation is collective over the communicator unless it says otherwise
/// (`send`/`receive` are point to point). Failures throw `MPIError`.
public final class Communicator: @unchecked Sendable {
    let handle: MPI_Comm
    private let owned: Bool
    /// This process's index in the communicator, 0..<size.
    public let rank: Int
    /// Number of ranks in the communicator.
    public let size: Int

    private init(handle: MPI_Comm, owned: Bool) throws {
        self.handle = handle
        self.owned = owned
        var r: Int32 = 0, s: Int32 = 0
        try mpiCheck(MPI_Comm_rank(handle, &r), "MPI_Comm_rank")
        try mpiCheck(MPI_Comm_size(handle, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    deinit {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if owned && finalized == 0 {
            var h: MPI_Comm? = handle
            MPI_Comm_free(&h)
        }
    }

    /// All ranks of the job; initialises MPI on first use (a 1-rank singleton without mpirun).
    public static func world() throws -> Communicator {
        try MPIRuntime.initialize()
        return try Communicator(handle: cmpi_comm_world(), owned: false)
    }

    public var isRoot: Bool { rank == 0 }

    /// Splits into sub-communicators: ranks with equal `color` end up together, ordered by `key`.
    public func split(color: Int, key: Int) throws -> Communicator {
        var newComm: MPI_Comm? = nil
        try mpiCheck(MPI_Comm_split(handle, Int32(color), Int32(key), &newComm), "MPI_Comm_split")
        guard let comm = newComm else {
            throw MPIError(operation: "MPI_Comm_split", code: -1, message: "no communicator returned")
        }
        try mpiCheck(MPI_Comm_set_errhandler(comm, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        return try Communicator(handle: comm, owned: true)
    }

    /// How many ranks of this communicator share this node's memory (collective).
    public func ranksOnThisNode() throws -> Int {
        var newComm: MPI_Comm? = nil
        try mpiCheck(MPI_Comm_split_type(handle, cmpi_comm_type_shared(), Int32(rank), cmpi_info_null(), &newComm),
                     "MPI_Comm_split_type(shared)")
        guard let comm = newComm else {
            throw MPIError(operation: "MPI_Comm_split_type", code: -1, message: "no communicator returned")
        }
        defer { MPI_Comm_free(&newComm) }
        var count: Int32 = 0
        try mpiCheck(MPI_Comm_size(comm, &count), "MPI_Comm_size")
        return Int(count)
    }

    public func barrier() throws {
        try mpiCheck(MPI_Barrier(handle), "MPI_Barrier")
    }

    // MARK: all-reduce

    /// In-place all-reduce of a raw buffer: the gradient path uses this on weight storage.
    public func allReduce<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, _ op: ReduceOperation) throws {
        guard size > 1, buffer.count > 0 else { return }
        let n = try mpiCount(buffer.count, "MPI_Allreduce")
        try mpiCheck(MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, n, T.mpiDatatype, op.handle, handle),
                     "MPI_Allreduce(\(T.self) × \(buffer.count))")
    }

    public func allReduce<T: MPIScalar>(_ buffer: inout [T], _ op: ReduceOperation) throws {
        try buffer.withUnsafeMutableBufferPointer { try allReduce($0, op) }
    }

    public func allReduce<T: MPIScalar>(_ value: T, _ op: ReduceOperation) throws -> T {
        var buffer = [value]
        try allReduce(&buffer, op)
        return buffer[0]
    }

    /// Starts an in-place all-reduce and returns at once; the buffer must stay untouched until the
    /// request completes (`PendingReduce.test` / `wait`). MPI progresses it inside MPI calls, so
    /// callers overlapping it with work should `test` now and then.
    public func startAllReduce<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>,
                                             _ op: ReduceOperation) throws -> PendingReduce {
        guard size > 1, buffer.count > 0 else { return PendingReduce(request: nil, what: "") }
        let n = try mpiCount(buffer.count, "MPI_Iallreduce")
        var request: MPI_Request? = nil
        let what = "MPI_Iallreduce(\(T.self) × \(buffer.count))"
        try mpiCheck(MPI_Iallreduce(cmpi_in_place(), buffer.baseAddress, n, T.mpiDatatype, op.handle, handle, &request), what)
        return PendingReduce(request: request, what: what)
    }

    // MARK: broadcast

    /// Broadcasts a fixed-size buffer from `root`; every rank must pass the same count.
    public func broadcast<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int = 0) throws {
        guard size > 1, buffer.count > 0 else { return }
        let n = try mpiCount(buffer.count, "MPI_Bcast")
        try mpiCheck(MPI_Bcast(buffer.baseAddress, n, T.mpiDatatype, Int32(root), handle),
                     "MPI_Bcast(\(T.self) × \(buffer.count))")
    }

    public func broadcast<T: MPIScalar>(_ buffer: inout [T], root: Int = 0) throws {
        try buffer.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }

    /// Broadcasts a byte blob whose size only `root` knows; returns root's bytes on every rank.
    public func broadcast(bytes: [UInt8], root: Int = 0) throws -> [UInt8] {
        var count = [Int64(rank == root ? bytes.count : 0)]
        try broadcast(&count, root: root)
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        try broadcast(&buffer, root: root)
        return buffer
    }

    /// Broadcasts a Codable value from `root` (as JSON). Non-root ranks may pass nil.
    public func broadcast<T: Codable>(_ value: T?, root: Int = 0) throws -> T {
        var payload: [UInt8] = []
        if rank == root {
            guard let value else {
                throw MPIError(operation: "broadcast", code: -1, message: "root rank \(root) has no value to send")
            }
            payload = Array(try JSONEncoder().encode(value))
        }
        let received = try broadcast(bytes: payload, root: root)
        return try JSONDecoder().decode(T.self, from: Data(received))
    }

    // MARK: gather

    /// Gathers one variable-size blob per rank at `root` (in rank order); other ranks get nil.
    public func gather(bytes: [UInt8], root: Int = 0) throws -> [[UInt8]]? {
        var myCount = try mpiCount(bytes.count, "MPI_Gather")
        var counts = [Int32](repeating: 0, count: size)
        try mpiCheck(MPI_Gather(&myCount, 1, cmpi_int32(), &counts, 1, cmpi_int32(), Int32(root), handle),
                     "MPI_Gather(counts)")
        let displacements = try Communicator.offsets(counts)
        var all = [UInt8](repeating: 0, count: rank == root ? Int(displacements.last ?? 0) + Int(counts.last ?? 0) : 0)
        try bytes.withUnsafeBufferPointer { mine in
            try all.withUnsafeMutableBufferPointer { out in
                try mpiCheck(MPI_Gatherv(mine.baseAddress, myCount, cmpi_byte(), out.baseAddress, counts,
                                         displacements, cmpi_byte(), Int32(root), handle), "MPI_Gatherv")
            }
        }
        return rank == root ? Communicator.unpack(all, counts, displacements) : nil
    }

    /// Every rank gets every rank's blob, in rank order.
    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] {
        var myCount = try mpiCount(bytes.count, "MPI_Allgather")
        var counts = [Int32](repeating: 0, count: size)
        try mpiCheck(MPI_Allgather(&myCount, 1, cmpi_int32(), &counts, 1, cmpi_int32(), handle),
                     "MPI_Allgather(counts)")
        let displacements = try Communicator.offsets(counts)
        var all = [UInt8](repeating: 0, count: Int(displacements.last ?? 0) + Int(counts.last ?? 0))
        try bytes.withUnsafeBufferPointer { mine in
            try all.withUnsafeMutableBufferPointer { out in
                try mpiCheck(MPI_Allgatherv(mine.baseAddress, myCount, cmpi_byte(), out.baseAddress, counts,
                                            displacements, cmpi_byte(), handle), "MPI_Allgatherv")
            }
        }
        return Communicator.unpack(all, counts, displacements)
    }

    /// All-gather of a Codable value per rank (as JSON), in rank order.
    public func allGather<T: Codable>(_ value: T) throws -> [T] {
        let blobs = try allGather(bytes: Array(try JSONEncoder().encode(value)))
        return try blobs.map { try JSONDecoder().decode(T.self, from: Data($0)) }
    }

    private static func offsets(_ counts: [Int32]) throws -> [Int32] {
        var displacements = [Int32](repeating: 0, count: counts.count)
        var total = 0
        for (i, c) in counts.enumerated() {
            displacements[i] = try mpiCount(total, "gather displacement")
            total += Int(c)
        }
        _ = try mpiCount(total, "gather total")
        return displacements
    }

    private static func unpack(_ all: [UInt8], _ counts: [Int32], _ displacements: [Int32]) -> [[UInt8]] {
        zip(counts, displacements).map { Array(all[Int($1)..<Int($1) + Int($0)]) }
    }

    // MARK: point to point

    /// Sends a buffer to one rank (blocking until the buffer may be reused).
    public func send<T: MPIScalar>(_ buffer: [T], to destination: Int, tag: Int) throws {
        let n = try mpiCount(buffer.count, "MPI_Send")
        try buffer.withUnsafeBufferPointer {
            try mpiCheck(MPI_Send($0.baseAddress, n, T.mpiDatatype, Int32(destination), Int32(tag), handle),
                         "MPI_Send(to rank \(destination), tag \(tag))")
        }
    }

    /// A message waiting to be received, without receiving it (MPI_Iprobe): its source and tag, or nil.
    public func probe(from source: Int? = nil, tag: Int? = nil) throws -> (source: Int, tag: Int)? {
        var status = MPI_Status()
        var flag: Int32 = 0
        try mpiCheck(MPI_Iprobe(Int32(source ?? Int(cmpi_any_source())), Int32(tag ?? Int(cmpi_any_tag())), handle,
                                &flag, &status), "MPI_Iprobe")
        return flag != 0 ? (Int(status.MPI_SOURCE), Int(status.MPI_TAG)) : nil
    }

    /// A received message and where it came from.
    public struct Message<T> {
        public let payload: [T]
        public let source: Int
        public let tag: Int
    }

    /// Receives one message of any length; `from`/`tag` nil mean any source / any tag.
    public func receive<T: MPIScalar>(_: T.Type = T.self, from source: Int? = nil, tag: Int? = nil) throws -> Message<T> {
        var status = MPI_Status()
        let src = Int32(source ?? Int(cmpi_any_source()))
        let tg = Int32(tag ?? Int(cmpi_any_tag()))
        try mpiCheck(MPI_Probe(src, tg, handle, &status), "MPI_Probe")
        var count: Int32 = 0
        try mpiCheck(MPI_Get_count(&status, T.mpiDatatype, &count), "MPI_Get_count")
        guard count != cmpi_undefined() else {
            throw MPIError(operation: "MPI_Get_count", code: -1,
                           message: "message from rank \(status.MPI_SOURCE) is not a whole number of \(T.self)")
        }
        var payload = [T](unsafeUninitializedCapacity: Int(count)) { _, initialized in initialized = Int(count) }
        try payload.withUnsafeMutableBufferPointer {
            try mpiCheck(MPI_Recv($0.baseAddress, count, T.mpiDatatype, status.MPI_SOURCE, status.MPI_TAG,
                                  handle, cmpi_status_ignore()),
                         "MPI_Recv(from rank \(status.MPI_SOURCE), tag \(status.MPI_TAG))")
        }
        return Message(payload: payload, source: Int(status.MPI_SOURCE), tag: Int(status.MPI_TAG))
    }

    // MARK: failure

    /// Ends the whole job: prints which rank failed and why, then MPI_Abort (all ranks die).
    public func abort(code: Int32 = 1, message: String) -> Never {
        let line = "netosis: rank \(rank) of \(size) failed: \(message)\n"
        FileHandle.standardError.write(Data(line.utf8))
        MPI_Abort(handle, code)
        exit(code)  // MPI_Abort does not return; this satisfies the type checker.
    }
}
