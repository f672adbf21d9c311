import Foundation

/// The numeric kernels (Neural, Imaging) are compiled for Haswell on x86-64 (Package.swift): on a
/// CPU without AVX2 and FMA they would die of an illegal instruction somewhere mid-run. This file
/// is compiled for the baseline, so it can say so first, in one line.
enum CPUCheck {
    static let required = ["avx2", "fma"]

    static func refuseUnsupportedCPU() {
        #if NETOSIS_KERNELS_NEED_AVX2
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(line.split(separator: " ").map(String.init))
        let missing = required.filter { !flags.contains($0) }
        guard !missing.isEmpty else { return }
        FileHandle.standardError.write(Data(("error: this netosis was built for CPUs with AVX2 and FMA (Haswell or newer); "
            + "this CPU lacks \(missing.joined(separator: ", ")). Rebuild with NETOSIS_TARGET_CPU=x86-64 make build\n").utf8))
        exit(1)
        #endif
    }
}
