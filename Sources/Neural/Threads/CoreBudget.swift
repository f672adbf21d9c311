import Foundation

/// How many threads this process should compute with: the cores it owns. Owned means what the
/// scheduler lets it run on — its CPU affinity (mpirun's binding, Slurm's cpuset) and the cgroup's CPU
/// quota — shared with the other ranks on the node when they all see the same cores (mpirun
/// `--bind-to none`). An explicit choice narrows it: NETOSIS_THREADS (taken as given), else
/// OPENBLAS_NUM_THREADS or OMP_NUM_THREADS (never above the cores owned).
public struct CoreBudget: Sendable, Equatable {
    public let threads: Int
    /// Where the number comes from, for `doctor` and `bench` ("affinity 2 cores", "NETOSIS_THREADS=3", …).
    public let source: String

    /// What the rule reads; tests pass made-up values.
    public struct Origin: Sendable {
        public var environment: [String: String]
        /// CPUs in this process's affinity mask.
        public var affinity: Int
        /// CPUs online on the node.
        public var online: Int
        /// The cgroup's CPU quota in cores (cpu.max quota / period), nil when unlimited.
        public var quota: Double?

        public init(environment: [String: String], affinity: Int, online: Int, quota: Double?) {
            self.environment = environment; self.affinity = affinity; self.online = online; self.quota = quota
        }

        public static func current() -> Origin {
            Origin(environment: ProcessInfo.processInfo.environment, affinity: affinityCount(),
                   online: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))), quota: cgroupQuota())
        }
    }

    public static func choose(_ o: Origin) -> CoreBudget {
        if let forced = o.environment["NETOSIS_THREADS"].flatMap({ Int($0) }), forced > 0 {
            return CoreBudget(threads: min(forced, 1024), source: "NETOSIS_THREADS=\(forced)")
        }
        var owned = max(1, o.affinity), source = "affinity \(owned) core\(owned == 1 ? "" : "s")"
        if let quota = o.quota, Int(quota.rounded(.up)) < owned {
            owned = max(1, Int(quota.rounded(.up)))
            source = "cgroup quota \(String(format: "%.2g", quota)) cores"
        }
        // Unbound ranks all see every core: each takes its share.
        if let local = o.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap({ Int($0) }), local > 1, o.affinity >= o.online {
            owned = max(1, owned / local)
            source += " / \(local) unbound ranks"
        }
        for name in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"] {
            if let n = o.environment[name].flatMap({ Int($0) }), n > 0 {
                return n < owned ? CoreBudget(threads: n, source: "\(name)=\(n)") : CoreBudget(threads: owned, source: source)
            }
        }
        return CoreBudget(threads: owned, source: source)
    }

    /// This process's budget (read once).
    public static let current = choose(.current())

    /// CPUs in this process's affinity mask (`Cpus_allowed_list` of /proc/self/status, e.g. "0-3,8").
    static func affinityCount(status: String = "/proc/self/status") -> Int {
        let online = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        guard let text = try? String(contentsOfFile: status, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
              let count = cpuListCount(String(line.dropFirst("Cpus_allowed_list:".count))) else { return online }
        return max(1, count)
    }

    /// The number of CPUs in a list such as "0-3,8,10-11"; nil if it does not parse.
    static func cpuListCount(_ list: String) -> Int? {
        var total = 0
        for part in list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let ends = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch ends.count {
            case 1: guard ends[0] != nil else { return nil }; total += 1
            case 2: guard let a = ends[0], let b = ends[1], b >= a else { return nil }; total += b - a + 1
            default: return nil
            }
        }
        return total > 0 ? total : nil
    }

    /// The tightest cgroup v2 `cpu.max` of this process's cgroup and its ancestors (a parent's quota
    /// binds the child, as MemoryBudget.cgroupLimit reads memory.max); "max 100000" is no quota.
    static func cgroupQuota(procSelfCgroup: String = "/proc/self/cgroup", root: String = "/sys/fs/cgroup") -> Double? {
        var directory = (try? String(contentsOfFile: procSelfCgroup, encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? "/"
        var quotas: [Double] = []
        while true {
            if let text = try? String(contentsOfFile: root + (directory == "/" ? "" : directory) + "/cpu.max", encoding: .utf8) {
                let fields = text.split(whereSeparator: \.isWhitespace)
                if fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]), period > 0 { quotas.append(quota / period) }
            }
            if directory == "/" || directory.isEmpty { break }
            directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
            if directory.isEmpty { directory = "/" }
        }
        return quotas.min()
    }
}
