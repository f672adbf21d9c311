import Foundation

/// Progress for long verbs: a self-overwriting line on a terminal, plain periodic lines in a log
/// (Slurm output files, CI), nothing from ranks other than 0. Library code reports through a
/// `(done, total)` closure; the CLI passes `ProgressLine(...).update`.
final class ProgressLine {
    private let label: String
    private let enabled: Bool
    private let interactive = isatty(STDERR_FILENO) == 1
    private let start = Date()
    private var lastPrint = Date.distantPast
    /// Training reports each epoch as a new round (done falls back to 0); the rate, and so the time
    /// left, is measured within the round, or the first steps of epoch 6 would look 6× as slow.
    private var roundStart = Date()
    private var lastDone = 0
    private let logInterval: TimeInterval

    init(_ label: String, rank: Int = 0, logInterval: TimeInterval = 10) {
        self.label = label
        self.enabled = rank == 0
        self.logInterval = logInterval
    }

    func update(_ done: Int, _ total: Int) { update(done, total, detail: "") }

    /// With a detail after the count ("4200 nuclei/s, 1 failed").
    func update(_ done: Int, _ total: Int, detail: String) {
        guard enabled else { return }
        let now = Date()
        if done < lastDone { roundStart = now }
        lastDone = done
        let finished = done >= total
        guard finished || now.timeIntervalSince(lastPrint) >= (interactive ? 0.2 : logInterval) else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let inRound = now.timeIntervalSince(roundStart)
        let rate = inRound > 0 ? Double(done) / inRound : 0
        let eta = rate > 0 && !finished ? String(format: ", %.0f s left", Double(total - done) / rate) : ""
        let percent = total > 0 ? 100 * Double(done) / Double(total) : 100
        let extra = detail.isEmpty ? "" : ", " + detail
        let text = String(format: "%@: %d/%d (%.0f%%), %.1f s%@%@", label, done, total, percent, elapsed, extra, eta)
        let line = interactive ? "\r\u{1B}[K" + text + (finished ? "\n" : "") : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
