import ArgumentParser

/// Every numeric flag has a documented range, checked in `validate()`: a value outside it is a
/// usage error naming the flag, the range and the value ("--batch-size must be 1…65536 (got 0)").
func requireFlag<T: Comparable>(_ flag: String, _ value: T?, in range: ClosedRange<T>, unit: String = "") throws {
    guard let value, !range.contains(value) else { return }
    throw ValidationError("\(flag) must be \(range.lowerBound)…\(range.upperBound)\(unit) (got \(value))")
}
