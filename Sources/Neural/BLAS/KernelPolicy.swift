import Foundation

/// Which OpenBLAS kernels a netosis process should run with, and the re-exec that applies it.
///
/// OpenBLAS reads OPENBLAS_CORETYPE once, when the library loads, so the choice must be in
/// the environment before the process starts. The rule (the same one `tools/openblas-coretype.sh`
/// applies for the Makefile and the Slurm scripts; see docs/cluster-guide.md):
///   1. NETOSIS_OPENBLAS_CORETYPE set → use it ("auto" = let OpenBLAS detect the CPU itself).
///   2. else the CPU has the AVX-512 set SkylakeX kernels need → SkylakeX.
///   3. else → leave OPENBLAS_CORETYPE as the environment has it.
/// An inherited OPENBLAS_CORETYPE is *not* an override: some sites set Haswell globally.
public enum KernelPolicy {
    static let appliedMarker = "NETOSIS_OPENBLAS_POLICY_APPLIED"

    /// The OPENBLAS_CORETYPE value the rule picks; nil means "unset it" (OpenBLAS detects).
    public static func choose(environment: [String: String], cpuFlags: Set<String>) -> String?? {
        if let forced = environment["NETOSIS_OPENBLAS_CORETYPE"], !forced.isEmpty {
            return forced.lowercased() == "auto" ? .some(nil) : .some(forced)
        }
        let skylakeX: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        if skylakeX.isSubset(of: cpuFlags) { return .some("SkylakeX") }
        return .none  // keep what the environment says
    }

    /// CPU feature flags from /proc/cpuinfo (empty if unreadable).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Applies the rule to this process: if the environment differs from the choice, sets it
    /// and re-executes the same binary with the same arguments (before MPI or BLAS are used).
    public static func applyByReexec() {
        let environment = ProcessInfo.processInfo.environment
        guard environment[appliedMarker] == nil else { return }
        setenv(appliedMarker, "1", 1)
        guard let choice = choose(environment: environment, cpuFlags: cpuFlags()) else { return }
        guard choice != environment["OPENBLAS_CORETYPE"] else { return }
        if let value = choice { setenv("OPENBLAS_CORETYPE", value, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // execv only returns on failure: carry on with the kernels we have.
    }
}
