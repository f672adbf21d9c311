import Cluster
import TestSupport
import XCTest

/// Collectives under a real mpirun at 2 and 3 ranks (3 oversubscribes this 2-core machine).
/// mpi-selftest checks every value on every rank; here we also check what rank 0 printed.
final class MultiRankTests: XCTestCase {
    func selftest(_ ranks: Int, _ check: String) throws -> ProcessResult {
        let result = try mpirun(ranks, try productPath("mpi-selftest"), [check], timeout: 120)
        XCTAssertFalse(result.timedOut, "mpirun -np \(ranks) \(check) hung:\n\(result.output)")
        XCTAssertEqual(result.status, 0, result.output)
        return result
    }

    func testAllReduceTwoAndThreeRanks() throws {
        // Rank r contributes r+1: the float sum at index 0 is n(n+1)/2, the Int64 sum of (r+1) likewise.
        XCTAssertTrue(try selftest(2, "allreduce").output.contains("allreduce ok: ranks=2 float_sum0=3 int64_sum=3 double_max=10.5 int32_min=-7 nonblocking_sum2999=6001"))
        XCTAssertTrue(try selftest(3, "allreduce").output.contains("allreduce ok: ranks=3 float_sum0=6 int64_sum=6 double_max=11.0 int32_min=-7 nonblocking_sum2999=9003"))
    }

    func testBroadcastTwoAndThreeRanks() throws {
        XCTAssertTrue(try selftest(2, "broadcast").output.contains("broadcast ok: ranks=2 root=1 codable=densenet-tiny ✓"))
        XCTAssertTrue(try selftest(3, "broadcast").output.contains("broadcast ok: ranks=3 root=2"))
    }

    func testGatherTwoAndThreeRanks() throws {
        XCTAssertTrue(try selftest(2, "gather").output.contains("gather ok: ranks=2 sizes=[1, 4]"))
        XCTAssertTrue(try selftest(3, "gather").output.contains("gather ok: ranks=3 sizes=[1, 4, 7]"))
    }

    func testSendReceiveTwoAndThreeRanks() throws {
        XCTAssertTrue(try selftest(2, "sendrecv").output.contains("sendrecv ok: ranks=2 answers=[101]"))
        XCTAssertTrue(try selftest(3, "sendrecv").output.contains("sendrecv ok: ranks=3 answers=[101, 201]"))
    }

    func testSplitCommunicators() throws {
        XCTAssertTrue(try selftest(3, "split").output.contains("split ok: ranks=3 even_group=2"))
    }

    /// A rank that throws must take the whole job down with its rank number and message.
    func testFailingRankAbortsJobInsteadOfHanging() throws {
        let result = try mpirun(2, try productPath("mpi-selftest"), ["fail-on-rank", "1"], timeout: 60)
        XCTAssertFalse(result.timedOut, "job hung instead of aborting:\n\(result.output)")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("netosis: rank 1 of 2 failed: deliberate failure for the abort test"), result.output)
        XCTAssertFalse(result.output.contains("UNEXPECTED"), result.output)
    }
}

/// Without mpirun: OpenMPI's singleton mode, in this very process.
final class SingletonTests: XCTestCase {
    func testSingletonWorldOperations() throws {
        let world = try Communicator.world()
        XCTAssertEqual(world.rank, 0)
        XCTAssertEqual(world.size, 1)
        var values: [Float] = [1.5, -2, 3]
        try world.allReduce(&values, .sum)
        XCTAssertEqual(values, [1.5, -2, 3])
        XCTAssertEqual(try world.allReduce(Int64(41), .max), 41)
        XCTAssertEqual(try world.broadcast(["a": 1], root: 0), ["a": 1])
        XCTAssertEqual(try world.gather(bytes: [1, 2, 3], root: 0), [[1, 2, 3]])
        XCTAssertEqual(try world.allGather(bytes: [9]), [[9]])
        try world.send([Int32(5), 6], to: 0, tag: 3)  // eager send to self, then receive it
        let message = try world.receive(Int32.self, from: 0, tag: 3)
        XCTAssertEqual(message.payload, [5, 6])
        XCTAssertEqual(message.source, 0)
        try world.barrier()
    }

    func testMPIErrorsBecomeSwiftErrorsWithMPIText() throws {
        let world = try Communicator.world()
        // Rank 5 does not exist in a 1-rank world: MPI returns an error instead of aborting.
        XCTAssertThrowsError(try world.send([Int32(1)], to: 5, tag: 0)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("MPI_Send(to rank 5"), text)
            XCTAssertTrue(text.lowercased().contains("rank"), text)  // MPI's own string, e.g. "MPI_ERR_RANK: invalid rank"
            XCTAssertTrue(error is MPIError)
        }
    }

    func testLibraryVersionIsOpenMPI() {
        XCTAssertTrue(MPIRuntime.libraryVersion.hasPrefix("Open MPI v"), MPIRuntime.libraryVersion)
        XCTAssertFalse(MPIRuntime.libraryVersion.contains("\0"))
    }
}
