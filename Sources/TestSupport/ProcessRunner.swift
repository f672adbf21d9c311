import Foundation

/// What a finished child process left behind.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let output: String
    /// True if the process was killed for exceeding its time limit.
    public let timedOut: Bool
    public let seconds: Double
    /// True if a signal ended the process (`status` is then the signal number).
    public var signaled = false
}

/// Runs a program to completion with stdout+stderr captured, stdin closed, and a time limit
/// (a hung MPI job must fail the test, not the CI run).
public func runProgram(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
                       timeout: TimeInterval = 300, directory: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment.filter { !isMPIJobVariable($0.key) }
    for (key, value) in extra { environment[key] = value }
    process.environment = environment
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let outputFile = FileManager.default.temporaryDirectory
        .appendingPathComponent("netosis-test-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    let handle = try FileHandle(forWritingTo: outputFile)
    defer { try? FileManager.default.removeItem(at: outputFile) }
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    let start = Date()
    // The handler must be in place before the child starts: a fast child can end before the
    // next line runs, and a handler set afterwards would never fire.
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    var timedOut = false
    if done.wait(timeout: .now() + timeout) == .timedOut {
        timedOut = true
        process.terminate()  // SIGTERM first: mpirun then tears down its ranks
        if done.wait(timeout: .now() + 5) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            _ = done.wait(timeout: .now() + 10)
        }
    }
    try handle.close()
    let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    return ProcessResult(status: process.terminationStatus, output: output, timedOut: timedOut,
                         seconds: Date().timeIntervalSince(start),
                         signaled: process.terminationReason == .uncaughtSignal)
}

/// Variables an MPI process (this test process, after a singleton MPI_Init) puts into its own
/// environment to describe its job. A child `mpirun` or `srun` that inherits them believes it is
/// already inside that job and exits at once, silently; children must start clean.
func isMPIJobVariable(_ key: String) -> Bool {
    ["PMIX_", "OMPI_", "ORTE_", "OPAL_", "PMI_"].contains { key.hasPrefix($0) }
}

/// Finds a program on PATH (or the usual Debian locations).
public func which(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for directory in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/bin"] {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
