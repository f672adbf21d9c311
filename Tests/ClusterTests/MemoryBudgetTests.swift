import Cluster
import TestSupport
import XCTest

/// The memory budget from fake cgroup files, Slurm variables and /proc/meminfo (never this machine's).
final class MemoryBudgetTests: XCTestCase {
    var root: URL!
    override func setUpWithError() throws { root = try makeTemporaryDirectory("memory-budget") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func write(_ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A fake machine: /proc/self/cgroup, the cgroup mount and /proc/meminfo under `root`.
    func budget(cgroup: String = "0::/\n", meminfoKB: Int? = 20_000_000, environment: [String: String] = [:],
                ranksOnNode: Int? = nil) throws -> MemoryBudget {
        try write("proc/self/cgroup", cgroup)
        if let meminfoKB { try write("proc/meminfo", "MemTotal:  24000000 kB\nMemFree: 1 kB\nMemAvailable:  \(meminfoKB) kB\n") }
        let origin = MemoryBudget.Origin(environment: environment, procSelfCgroup: root.path + "/proc/self/cgroup",
                                         cgroupRoot: root.path + "/cg", meminfo: root.path + "/proc/meminfo")
        return MemoryBudget.current(ranksOnNode: ranksOnNode, origin: origin)
    }

    func testCgroupV2LimitOfAnAncestorBindsAndIsSharedByTheRanks() throws {
        try write("cg/user.slice/job/memory.max", "max\n")
        try write("cg/user.slice/memory.max", "11000000000\n")
        let b = try budget(cgroup: "0::/user.slice/job\n", ranksOnNode: 2)
        XCTAssertEqual(b.bound, .init(source: "cgroup limit", bytes: 11e9))
        XCTAssertEqual(b.bytesPerRank, 5.5e9)
        XCTAssertEqual(b.explanation, "cgroup limit 11 GB / 2 ranks")
    }

    func testCgroupV1MemoryControllerAndContainerRoot() throws {
        try write("cg/memory/process_api/abc/memory.limit_in_bytes", "9223372036854771712\n")   // v1's "unlimited"
        try write("cg/memory/process_api/memory.limit_in_bytes", "4294967296\n")
        let v1 = try budget(cgroup: "5:devices:/\n4:cpuacct,memory:/process_api/abc\n0::/\n")
        XCTAssertEqual(v1.bound, .init(source: "cgroup limit", bytes: 4294967296))
        // A container without a cgroup namespace: the host path is not under the mount, its root is ours.
        try FileManager.default.removeItem(at: root.appendingPathComponent("cg"))
        try write("cg/memory.max", "3000000000\n")
        XCTAssertEqual(try budget(cgroup: "0::/docker/0123abcd\n").bound, .init(source: "cgroup limit", bytes: 3e9))
    }

    func testSlurmAllocationPerNodeOrPerCPU() throws {
        XCTAssertEqual(try budget(environment: ["SLURM_MEM_PER_NODE": "2048"]).bound,
                       .init(source: "Slurm allocation", bytes: 2048 * 1048576))
        XCTAssertEqual(try budget(environment: ["SLURM_MEM_PER_CPU": "1000", "SLURM_CPUS_ON_NODE": "4"]).bound,
                       .init(source: "Slurm allocation", bytes: 4000 * 1048576))
        // 0 means "the whole node": MemAvailable is then the bound.
        XCTAssertEqual(try budget(environment: ["SLURM_MEM_PER_NODE": "0"]).bound?.source, "available memory")
    }

    func testMemAvailableIsTheBoundWhenSmallestOrAlone() throws {
        try write("cg/memory.max", "max\n")
        let b = try budget(meminfoKB: 1_000_000, environment: ["SLURM_MEM_PER_NODE": "4096"])
        XCTAssertEqual(b.bound, .init(source: "available memory", bytes: 1_024_000_000))
        XCTAssertEqual(b.explanation, "available memory 1.0 GB")
        try FileManager.default.removeItem(at: root.appendingPathComponent("proc/meminfo"))
        XCTAssertNil(try budget(meminfoKB: nil).bound, "nothing readable: no bound, nothing is refused")
    }

    func testRanksOnTheNodeFromTheLauncher() throws {
        func ranks(_ environment: [String: String]) throws -> Int { try budget(environment: environment).ranksOnNode }
        XCTAssertEqual(try ranks([:]), 1)
        XCTAssertEqual(try ranks(["OMPI_COMM_WORLD_LOCAL_SIZE": "3", "SLURM_NTASKS_PER_NODE": "8"]), 3)
        XCTAssertEqual(try ranks(["SLURM_NTASKS_PER_NODE": "4"]), 4)
        XCTAssertEqual(try ranks(["SLURM_TASKS_PER_NODE": "2(x3),1", "SLURM_NODEID": "3"]), 1)
        XCTAssertEqual(try ranks(["SLURM_TASKS_PER_NODE": "2(x3),1", "SLURM_NODEID": "1"]), 2)
        XCTAssertEqual(try ranks(["SLURM_TASKS_PER_NODE": "5,3"]), 5)
        let b = try budget(meminfoKB: 8_000_000, environment: ["OMPI_COMM_WORLD_LOCAL_SIZE": "4"])
        XCTAssertEqual(b.bytesPerRank, 8_192_000_000 / 4)
    }

    func testCheckNamesTheLargestBatchSizeThatFits() throws {
        let budget = MemoryBudget(bound: .init(source: "cgroup limit", bytes: 2e9), ranksOnNode: 2)   // 1 GB per rank
        let perImage = { (batch: Int) in Double(batch) * 1e6 }
        XCTAssertNoThrow(try budget.check(batchSize: 700, for: "m at 8×8", need: perImage))
        // (1e9 − 256 MiB overhead) / 1 MB = 731 images.
        XCTAssertThrowsError(try budget.check(batchSize: 100_000_000, for: "densenet121 at 112×112", need: perImage)) {
            XCTAssertEqual("\($0)", "--batch-size 100000000 needs ≈ 100000 GB per rank for densenet121 at 112×112; "
                           + "this rank may use 1.0 GB (cgroup limit 2.0 GB / 2 ranks): use --batch-size ≤ 731")
        }
        XCTAssertThrowsError(try budget.check(batchSize: 1 << 62, for: "m", need: perImage)) {
            XCTAssertTrue("\($0)".hasSuffix("use --batch-size ≤ 731"), "\($0)")
        }
        // A batch split over 2 ranks (bench): the flag's value is twice the per-rank batch.
        XCTAssertThrowsError(try budget.check(batchSize: 4000, ranksSharingBatch: 2, for: "m", need: perImage)) {
            XCTAssertTrue("\($0)".hasSuffix("use --batch-size ≤ 1462"), "\($0)")
        }
        XCTAssertThrowsError(try budget.check(batchSize: 8, for: "m", need: { _ in 2e9 })) {
            XCTAssertTrue("\($0)".hasSuffix("even --batch-size 1 does not fit; run fewer ranks per node or ask for more memory"), "\($0)")
        }
        XCTAssertNoThrow(try MemoryBudget(bound: nil, ranksOnNode: 1).check(batchSize: 1 << 62, for: "m", need: perImage))
    }
}
