import Foundation

/// The memory one rank may use: the smallest of the cgroup limit, the Slurm allocation and the
/// node's MemAvailable, shared by the ranks on this node. Big buffers are checked against it
/// before they are allocated, so an absurd flag fails with a line instead of an OOM kill.
public struct MemoryBudget: Sendable, Equatable {
    /// One bound on what this node's ranks may use together, and where it comes from.
    public struct Bound: Sendable, Equatable {
        public var source: String   // "cgroup limit", "Slurm allocation", "available memory"
        public var bytes: Double
        public init(source: String, bytes: Double) { self.source = source; self.bytes = bytes }
    }

    /// The tightest bound found; nil when none could be read (then nothing is refused).
    public let bound: Bound?
    public let ranksOnNode: Int

    public init(bound: Bound?, ranksOnNode: Int) {
        self.bound = bound; self.ranksOnNode = max(1, ranksOnNode)
    }

    public var bytesPerRank: Double? { bound.map { $0.bytes / Double(ranksOnNode) } }

    /// e.g. "cgroup limit 11 GB / 2 ranks"
    public var explanation: String {
        guard let bound else { return "no limit found" }
        return "\(bound.source) \(MemoryBudget.text(bytes: bound.bytes))" + (ranksOnNode > 1 ? " / \(ranksOnNode) ranks" : "")
    }

    /// What the budget is read from; tests point these at fake files and variables.
    public struct Origin: Sendable {
        public var environment: [String: String]
        public var procSelfCgroup: String
        public var cgroupRoot: String
        public var meminfo: String

        public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                    procSelfCgroup: String = "/proc/self/cgroup", cgroupRoot: String = "/sys/fs/cgroup",
                    meminfo: String = "/proc/meminfo") {
            self.environment = environment; self.procSelfCgroup = procSelfCgroup
            self.cgroupRoot = cgroupRoot; self.meminfo = meminfo
        }
    }

    /// This process's budget. `ranksOnNode` nil: taken from the launcher's environment.
    public static func current(ranksOnNode: Int? = nil, origin: Origin = Origin()) -> MemoryBudget {
        let bounds = [cgroupLimit(origin).map { Bound(source: "cgroup limit", bytes: $0) },
                      slurmAllocation(origin.environment).map { Bound(source: "Slurm allocation", bytes: $0) },
                      memAvailable(origin.meminfo).map { Bound(source: "available memory", bytes: $0) }]
        return MemoryBudget(bound: bounds.compactMap { $0 }.min { $0.bytes < $1.bytes },
                            ranksOnNode: ranksOnNode ?? launcherRanksOnNode(origin.environment))
    }

    /// This rank's budget; under MPI the ranks on this node are counted by the communicator.
    public static func current(world: Communicator?) throws -> MemoryBudget {
        guard let world, world.size > 1 else { return current(ranksOnNode: world == nil ? nil : 1) }
        return current(ranksOnNode: try world.ranksOnThisNode())
    }

    // MARK: sources

    /// memory.max (v2) or memory.limit_in_bytes (v1) of this process's cgroup and its ancestors
    /// (a parent's limit binds the child), plus the mount's root, which is the container's own
    /// cgroup when /proc/self/cgroup shows a host path.
    static func cgroupLimit(_ origin: Origin) -> Double? {
        guard let text = try? String(contentsOfFile: origin.procSelfCgroup, encoding: .utf8) else { return nil }
        var limits: [Double] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let (root, file): (String, String)
            if fields[0] == "0", fields[1].isEmpty { (root, file) = (origin.cgroupRoot, "memory.max") }
            else if fields[1].split(separator: ",").contains("memory") { (root, file) = (origin.cgroupRoot + "/memory", "memory.limit_in_bytes") }
            else { continue }
            var directory = String(fields[2])
            while true {
                if let value = readLimit(root + (directory == "/" ? "" : directory) + "/" + file) { limits.append(value) }
                if directory == "/" || directory.isEmpty { break }
                directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
                if directory.isEmpty { directory = "/" }
            }
        }
        return limits.min()
    }

    /// A limit file's value; "max" and v1's near-2⁶³ "unlimited" are no limit.
    static func readLimit(_ path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              value > 0, value < 0x1p60 else { return nil }
        return value
    }

    /// SLURM_MEM_PER_NODE (MB; 0 means the whole node), or SLURM_MEM_PER_CPU × SLURM_CPUS_ON_NODE.
    static func slurmAllocation(_ environment: [String: String]) -> Double? {
        let megabyte = 1024.0 * 1024
        if let perNode = environment["SLURM_MEM_PER_NODE"].flatMap(Double.init), perNode > 0 { return perNode * megabyte }
        if let perCPU = environment["SLURM_MEM_PER_CPU"].flatMap(Double.init), perCPU > 0,
           let cpus = environment["SLURM_CPUS_ON_NODE"].flatMap(Double.init), cpus > 0 {
            return perCPU * cpus * megabyte
        }
        return nil
    }

    static func memAvailable(_ path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kB = Double(fields[1]) { return kB * 1024 }
        }
        return nil
    }

    /// Ranks sharing this node, from mpirun's or Slurm's variables (1 when launched alone).
    /// SLURM_TASKS_PER_NODE reads like "2(x3),1": this node's entry is picked by SLURM_NODEID.
    static func launcherRanksOnNode(_ environment: [String: String]) -> Int {
        if let n = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init), n > 0 { return n }
        if let n = environment["SLURM_NTASKS_PER_NODE"].flatMap(Int.init), n > 0 { return n }
        if let list = environment["SLURM_TASKS_PER_NODE"] {
            var perNode: [Int] = []
            for entry in list.split(separator: ",") {
                let parts = entry.split(separator: "(")
                guard let count = Int(parts[0]) else { continue }
                let repeats = parts.count > 1 ? Int(parts[1].dropFirst().dropLast()) ?? 1 : 1
                perNode += Array(repeating: count, count: max(1, repeats))
            }
            if let node = environment["SLURM_NODEID"].flatMap(Int.init), perNode.indices.contains(node) { return perNode[node] }
            if let most = perNode.max(), most > 0 { return most }
        }
        return 1
    }

    // MARK: checking a batch size

    /// Libraries, HDF5 and OpenBLAS buffers: what a rank holds besides the estimated tensors.
    public static let runtimeOverhead = 256.0 * 1024 * 1024

    /// Refuses `batchSize` when `need(per-rank batch)` bytes (plus `runtimeOverhead`) exceed this
    /// rank's budget, naming the largest batch size that fits. `ranksSharingBatch`: the flag's
    /// batch is split over that many ranks (bench), or 1 when every rank runs it whole (infer).
    public func check(batchSize: Int, ranksSharingBatch: Int = 1, for what: String,
                      need: (Int) -> Double) throws {
        guard let available = bytesPerRank, batchSize > 0 else { return }
        let share = max(1, ranksSharingBatch)
        func required(_ batch: Int) -> Double { need(batch) + MemoryBudget.runtimeOverhead }
        let perRank = max(1, batchSize / share)
        guard required(perRank) > available else { return }
        var (fits, fails) = (0, perRank)   // need grows with the batch: bisect for the largest that fits
        while fails - fits > 1 {
            let middle = fits + (fails - fits) / 2
            if required(middle) <= available { fits = middle } else { fails = middle }
        }
        let head = "--batch-size \(batchSize) needs ≈ \(MemoryBudget.text(bytes: required(perRank))) per rank for \(what); "
            + "this rank may use \(MemoryBudget.text(bytes: available)) (\(explanation))"
        throw MemoryBudgetError(message: fits > 0
            ? head + ": use --batch-size ≤ \(fits * share)"
            : head + ": even --batch-size \(share) does not fit; run fewer ranks per node or ask for more memory")
    }

    /// "310 GB", "5.6 GB", "512 MB" (decimal units).
    public static func text(bytes: Double) -> String {
        let (value, unit) = bytes >= 1e9 ? (bytes / 1e9, "GB") : (bytes / 1e6, "MB")
        return String(format: value < 10 && unit == "GB" ? "%.1f" : "%.0f", value) + " " + unit
    }
}

/// A batch too large for the memory this rank may use; the message says what to change.
public struct MemoryBudgetError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}
