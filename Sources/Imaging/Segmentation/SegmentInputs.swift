import Foundation

/// Inputs of netosis segment: images are listed by `InputFiles.images` and paired with annotation
/// files by `AnnotationPairing` (the same listing and pairing as prepare).
public enum SegmentInputs {
    /// "path: problem" for any error, without repeating the path when the error already names it.
    public static func describe(_ error: Error, path: String) -> String {
        let text = "\(error)"
        return text.hasPrefix(path) ? text : "\(path): \(text)"
    }
}
