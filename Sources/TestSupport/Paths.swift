import Foundation

/// Where the built products live: the directory of the running test bundle
/// (.build/<triple>/<configuration>/), which also holds `netosis` and `mpi-selftest`.
public func productsDirectory() -> URL {
    var url = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    // The XCTest runner may sit inside a .xctest bundle directory.
    while url.pathExtension == "xctest" || url.lastPathComponent == "Contents" || url.lastPathComponent == "MacOS" {
        url.deleteLastPathComponent()
    }
    return url
}

/// Path of a built executable product; fails loudly if it was not built.
public func productPath(_ name: String) throws -> String {
    let path = productsDirectory().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestSetupError("\(name) not found at \(path): build the package first (swift build -c release)")
    }
    return path
}

/// The repository root (derived from this source file's location).
public func repositoryRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// `../shared/data/<name>` beside the repository. When it is missing, tests are skipped on a
/// developer machine but fail under CI (env CI set): real-data checks must never silently vanish.
public func sharedDataDirectory(_ name: String) throws -> URL? {
    let candidates = [
        ProcessInfo.processInfo.environment["NETOSIS_SHARED_DATA"].map { URL(fileURLWithPath: $0) },
        repositoryRoot().deletingLastPathComponent().appendingPathComponent("shared/data"),
    ].compactMap { $0 }
    for base in candidates {
        let url = base.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: url.path) { return url }
    }
    if ProcessInfo.processInfo.environment["CI"] != nil {
        throw TestSetupError("shared data '\(name)' not found (looked in \(candidates.map(\.path))); CI requires it")
    }
    return nil
}

/// A fresh temporary directory, removed by the caller (or left for post-mortem on failure).
public func makeTemporaryDirectory(_ prefix: String = "netosis-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// SLURM_CONF of the single-node Slurm that `make test` starts (slurm/with-local-slurm.sh), or
/// nil when there is none on a developer machine (the caller skips). Under CI it must be there.
public func localSlurmConfiguration() throws -> String? {
    if let conf = ProcessInfo.processInfo.environment["SLURM_CONF"] { return conf }
    if ProcessInfo.processInfo.environment["CI"] != nil {
        throw TestSetupError("SLURM_CONF is not set under CI: run the tests through `make test` (slurm/with-local-slurm.sh)")
    }
    return nil
}
