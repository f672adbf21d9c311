/// Explicit 16-wide float vectors for the elementwise kernels (one AVX-512 register; the
/// compiler splits them on narrower machines). Channel loops run 16 at a time plus a scalar tail.
typealias Vec = SIMD16<Float>

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}

@inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}

@inline(__always) func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

/// Number of channels handled by the vector loop (a multiple of 16).
@inline(__always) func vectorPart(_ c: Int) -> Int { c & ~15 }
