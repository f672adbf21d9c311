import Foundation

/// The temporary files this process is writing (`.NAME.tmp-HOST-PID-XXXX` beside their target).
/// SIGINT, SIGTERM and SIGHUP remove them before the process dies, and a later run on the same
/// host removes those whose process is gone, so an interrupted run never leaves one behind for long.
public enum TemporaryFiles {
    private static let capacity = 64
    /// Fixed C storage the signal handler can read without allocating (async-signal-safe).
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    private static let lock = NSLock()

    /// This machine's name as it appears in temporary file names.
    public static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        let name = String(cString: buffer).replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ".", with: "_")
        return name.isEmpty ? "host" : name
    }()

    /// Installs the cleanup handlers once, and ignores SIGXFSZ so that a file-size limit arrives
    /// as a write error (reported, temporary removed) instead of killing the process.
    public static func installSignalCleanup() {
        _ = installed
    }

    private static let installed: Void = {
        _ = slots
        signal(SIGXFSZ, SIG_IGN)
        for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, removeAllAndDie) }
    }()

    /// A temporary path beside `target`, registered for removal on a signal.
    public static func create(besides target: String) -> String {
        let url = URL(fileURLWithPath: target)
        let directory = url.deletingLastPathComponent().path
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let path = "\(directory)/\(prefix(for: url.lastPathComponent))\(getpid())-\(random)"
        register(path)
        return path
    }

    /// `.NAME.tmp-HOST-` — every temporary of `name` written on this host starts so.
    static func prefix(for name: String) -> String { ".\(name).tmp-\(host)-" }

    static func register(_ path: String) {
        lock.withLock {
            for i in 0..<capacity where slots[i] == nil {
                slots[i] = strdup(path)
                return
            }
        }
    }

    /// Forgets `path` (renamed into place or removed).
    public static func unregister(_ path: String) {
        lock.withLock {
            for i in 0..<capacity {
                if let p = slots[i], String(cString: p) == path {
                    slots[i] = nil
                    free(p)
                }
            }
        }
    }

    /// For a file name `.NAME.tmp-HOST-PID-XXXX`: the name of the target it was written for, and
    /// whether its writer was a process of this host that no longer exists (so it may be removed).
    /// nil for any other name.
    public static func writer(ofTemporary name: String) -> (target: String, deadOnThisHost: Bool)? {
        guard name.hasPrefix("."), let mark = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let target = String(name[name.index(after: name.startIndex)..<mark.lowerBound])
        let rest = name[mark.upperBound...]
        guard rest.hasPrefix(host + "-") else { return (target, false) }   // another host: cannot tell
        let pidAndRandom = rest.dropFirst(host.count + 1).split(separator: "-")
        guard pidAndRandom.count == 2, let pid = Int32(pidAndRandom[0]), pid != getpid() else { return (target, false) }
        return (target, kill(pid, 0) == -1 && errno == ESRCH)
    }

    /// Removes temporaries of `target` left on this host by processes that no longer exist.
    /// Returns the paths removed.
    @discardableResult
    public static func removeStale(besides target: String) -> [String] {
        let url = URL(fileURLWithPath: target)
        let directory = url.deletingLastPathComponent().path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names {
            guard let writer = writer(ofTemporary: name), writer.target == url.lastPathComponent, writer.deadOnThisHost else { continue }
            let path = "\(directory)/\(name)"
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }

    /// The signal handler: unlink every registered temporary, then die of the same signal.
    private static let removeAllAndDie: @convention(c) (Int32) -> Void = { sig in
        for i in 0..<TemporaryFiles.capacity {
            if let p = TemporaryFiles.slots[i] { unlink(p) }
        }
        signal(sig, SIG_DFL)
        raise(sig)
    }
}
