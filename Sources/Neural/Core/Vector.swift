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

/// The first n ≤ 16 floats at p (the rest zero): a channel tail without reading past it.
@inline(__always) func loadPartial(_ p: UnsafePointer<Float>, _ n: Int) -> Vec {
    if n == 16 { return load(p) }
    var v = Vec()
    for i in 0..<n { v[i] = p[i] }
    return v
}

@inline(__always) func loadPartial(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Vec { loadPartial(UnsafePointer(p), n) }

/// Stores the first n ≤ 16 lanes of v at p.
@inline(__always) func storePartial(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n == 16 { store(v, p); return }
    for i in 0..<n { p[i] = v[i] }
}
