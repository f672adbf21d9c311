// swift-tools-version:6.1
import PackageDescription

// Layers (dependencies point one way; picture in docs/architecture.md, generated from this file):
//   netosis → Pipeline → (Neural, Imaging, Analysis) → (Storage, Cluster, Determinism) → C system libraries
let package = Package(
    name: "netosis",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "netosis", targets: ["netosis"]),
        .executable(name: "mpi-selftest", targets: ["mpi-selftest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        // System libraries: module.modulemap + shim.h each; pkg-config gives -I/-L.
        // Names are the fixed Debian ones, not the movable alternatives (../shared/docs/hpc-recipe.md).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CTIFF", path: "Sources/CTIFF", pkgConfig: "libtiff-4",
                       providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // Colour images for image classification (the celldeath method): libpng's simplified API and
        // TurboJPEG report errors as strings, so Swift can call them directly (no setjmp).
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        // The only C we write: fixed-signature wrappers for libtiff's variadic calls.
        .target(name: "CShims", dependencies: ["CTIFF"]),

        .target(name: "Cluster", dependencies: ["CMPI"], swiftSettings: swift5),
        // Storage carries the build's identity (ToolVersion: release + git commit, from Plugins/BuildInfo),
        // and reads the YAML configuration files (ConfigFile: one-line errors with line and key).
        .target(name: "Storage", dependencies: ["CHDF5", .product(name: "Yams", package: "Yams")],
                swiftSettings: swift5, plugins: ["BuildInfo"]),
        .plugin(name: "BuildInfo", capability: .buildTool()),
        // SplitMix64 and StableHash: the one source of reproducible randomness.
        .target(name: "Determinism", dependencies: [], swiftSettings: swift5),
        .target(name: "Imaging", dependencies: ["CTIFF", "CShims", "CPNG", "CTurboJPEG", "Storage", "Determinism",
                                                .product(name: "Yams", package: "Yams")],
                swiftSettings: optimized),
        .target(name: "Neural", dependencies: ["COpenBLAS", "Storage", "Determinism",
                                               .product(name: "Yams", package: "Yams")],
                swiftSettings: optimized),
        // Statistics, curve fitting, clustering and the experiment's plain-text design (plate map): no
        // MPI or HDF5; LAPACK (from OpenBLAS) for the small linear systems of least squares,
        // Determinism's SplitMix64 for the seeded resampling of count-matched comparisons.
        .target(name: "Analysis", dependencies: ["COpenBLAS", "Determinism"], swiftSettings: swift5),
        .target(name: "Pipeline", dependencies: ["Cluster", "Storage", "Imaging", "Neural", "Determinism", "Analysis"],
                swiftSettings: swift5),
        .executableTarget(name: "netosis", dependencies: [
            "Pipeline", "Cluster", "Storage", "Imaging", "Neural", "Analysis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swift5 + cpuDefines),
        // Exercises every Communicator operation under mpirun; used by tests and by admins.
        .executableTarget(name: "mpi-selftest", dependencies: ["Cluster"], swiftSettings: swift5),

        // Helpers shared by the test targets: run processes, mpirun settings, shared data paths.
        .target(name: "TestSupport", dependencies: [], swiftSettings: swift5),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "TestSupport", "mpi-selftest"],
                    swiftSettings: swift5),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"], swiftSettings: swift5),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Storage", "TestSupport", "Determinism"],
                    exclude: ["Fixtures"], swiftSettings: swift5),
        .testTarget(name: "NeuralTests", dependencies: ["Neural", "Storage", "TestSupport", "Determinism"],
                    exclude: ["Fixtures"], swiftSettings: swift5),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Determinism"], exclude: ["Fixtures"], swiftSettings: swift5),
        .testTarget(name: "EndToEndTests", dependencies: ["Pipeline", "TestSupport", "netosis", "Determinism", "Analysis"],
                    exclude: ["Fixtures"], swiftSettings: swift5),
    ]
)

// Swift 5 language mode: C handles (MPI_Comm, TIFF*) are OpaquePointers, which Swift 6's
// strict Sendable checking rejects in globals and value types.
var swift5: [SwiftSetting] { [.swiftLanguageMode(.v5)] }
// Numeric kernels: no bounds/exclusivity checks in release hot loops; debug builds keep them.
// On x86-64 they are compiled for Haswell (AVX2 + FMA, every x86 server since 2013): the baseline
// (SSE2) splits each 16-float vector into four and spills (Winograd's transforms ran 10× slower).
// NETOSIS_TARGET_CPU=x86-64 builds for older CPUs; `netosis` refuses to start on a CPU that lacks
// what the build needs (CPUCheck in Sources/netosis).
var optimized: [SwiftSetting] {
    swift5 + [.unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"] + targetCPUFlags, .when(configuration: .release))]
}
var targetCPUFlags: [String] {
    #if arch(x86_64)
    let cpu = Context.environment["NETOSIS_TARGET_CPU"] ?? "haswell"
    return cpu == "x86-64" ? [] : ["-target-cpu", cpu]
    #else
    return []
    #endif
}
/// Tells the (baseline-compiled) executable which CPU the kernels were built for.
var cpuDefines: [SwiftSetting] {
    targetCPUFlags.isEmpty ? [] : [.define("NETOSIS_KERNELS_NEED_AVX2", .when(configuration: .release))]
}
