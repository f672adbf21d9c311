import Foundation
import Storage

/// One writer per results file: `OUT.lock` beside it, held with flock(2) for the whole run. The
/// kernel drops the lock when the process dies, so a killed screen never leaves a stale lock; the
/// file's text (host, PID, Slurm job, start time) names the holder in the message a second job
/// gets. flock works across processes on one host and on most cluster file systems (NFSv4, Lustre
/// with `flock` mounted); docs/cluster-guide.md says so.
final class ResultsLock {
    let path: String
    private var fd: Int32 = -1

    init(results: String) { path = results + ".lock" }

    /// Takes the lock or throws naming the job that holds it.
    func acquire() throws {
        // A lock file unlinked by its releasing holder between our open and flock is not the lock:
        // retry on the file now at the path.
        for _ in 0..<8 {
            try tryAcquire()
            var onDisk = stat(), held = stat()
            if stat(path, &onDisk) == 0, fstat(fd, &held) == 0, onDisk.st_ino == held.st_ino, onDisk.st_dev == held.st_dev {
                break
            }
            close(fd); fd = -1
        }
        guard fd >= 0 else { throw WriteError(path: path, problem: "cannot hold the lock file (it keeps being replaced)") }
        let env = ProcessInfo.processInfo.environment
        var text = "host \(TemporaryFiles.host), pid \(getpid())"
        if let job = env["SLURM_JOB_ID"] { text += ", Slurm job \(job)" }
        text += ", since \(FileHeader.now())\n"
        ftruncate(fd, 0)
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }

    private func tryAcquire() throws {
        fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw WriteError(path: path, problem: "cannot create the lock file: \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd); fd = -1
            let who = holder.isEmpty ? "another process" : holder
            throw OutputError(path: String(path.dropLast(5)),
                              problem: "is being written by another screen (\(who)); wait for it to finish or write to another file")
        }
    }

    func release() {
        guard fd >= 0 else { return }
        unlink(path)  // while still held: a waiting opener then sees another inode and retries
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
}
