import CHDF5
import Foundation

/// An HDF5 operation that failed, with the file it concerned and HDF5's own error-stack text.
public struct HDF5Error: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let detail: String

    public var description: String {
        detail.isEmpty ? "\(path): \(operation) failed" : "\(path): \(operation) failed: \(detail)"
    }

    /// The message without the path, for callers that name the file themselves.
    public var problem: String {
        if operation == "open" && !detail.isEmpty { return detail }
        return detail.isEmpty ? "\(operation) failed" : "\(operation) failed: \(detail)"
    }
}

/// HDF5 prints its error stack to stderr by default; we turn that off once and read the
/// stack ourselves so the text ends up inside the Swift error instead.
enum HDF5Library {
    static let silenced: Void = {
        H5open()
        H5Eset_auto2(chdf5_e_default(), nil, nil)
    }()

    /// The innermost-first descriptions on the current thread's error stack, joined.
    static func currentStackText() -> String {
        final class Collector { var lines: [String] = []; var system: String? }
        let collector = Collector()
        let context = Unmanaged.passUnretained(collector).toOpaque()
        H5Ewalk2(chdf5_e_default(), H5E_WALK_UPWARD, { _, entry, context in
            guard let entry, let context else { return 0 }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            if let desc = entry.pointee.desc {
                var text = String(cString: desc)
                // A failed write's entry is a multi-line dump (time, buffer address, byte counts);
                // its system error message is what a user can act on.
                if let start = text.range(of: "error message = '"),
                   let end = text[start.upperBound...].firstIndex(of: "'") {
                    text = String(text[start.upperBound..<end])
                    if collector.system == nil { collector.system = text }
                }
                text = text.split(whereSeparator: \.isNewline).joined(separator: " ")
                if !text.isEmpty && !collector.lines.contains(text) { collector.lines.append(text) }
            }
            return 0
        }, context)
        H5Eclear2(chdf5_e_default())
        // The system's reason (e.g. "No space left on device"), when there is one, says it all.
        if let system = collector.system { return system }
        return collector.lines.prefix(3).joined(separator: "; ")
    }

    /// "1.10.8"
    static var version: String {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }
}

public enum HDF5 {
    /// Version of the HDF5 library this binary is linked against.
    public static var libraryVersion: String { HDF5Library.version }
}

/// The one place HDF5 return values are checked: negative ids/status mean failure.
@inline(__always)
func h5check<T: BinaryInteger>(_ value: T, _ path: String, _ operation: @autoclosure () -> String) throws -> T {
    if value < 0 {
        throw HDF5Error(path: path, operation: operation(), detail: HDF5Library.currentStackText())
    }
    return value
}
