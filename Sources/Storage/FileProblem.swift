import Foundation

/// Why a file could not be used, in a few words a user can act on ("permission denied",
/// "no such file"), instead of Foundation's "NSCocoaErrorDomain Code=513 …".
public enum FileProblem {
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return posix(Int32(ns.code)) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? Error,
           (underlying as NSError).domain == NSPOSIXErrorDomain {
            return posix(Int32((underlying as NSError).code))
        }
        if ns.domain == NSCocoaErrorDomain {
            switch ns.code {
            case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
            case NSFileWriteOutOfSpaceError: return "no space left on the disk"
            case NSFileWriteVolumeReadOnlyError: return "the disk is read-only"
            case NSFileReadCorruptFileError, NSFileReadInapplicableStringEncodingError: return "not readable text"
            default: break
            }
        }
        return "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "unknown error"
    }

    /// "path: reason", without repeating the path when the error's text already starts with it.
    public static func describe(_ error: Error, path: String) -> String {
        let text = (error as NSError).domain == NSCocoaErrorDomain || (error as NSError).domain == NSPOSIXErrorDomain
            ? reason(error) : "\(error)"
        return text.hasPrefix(path) ? text : "\(path): \(text)"
    }

    /// The system's words for an errno value, for the errors users meet most in plain words.
    public static func posix(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        case EISDIR: return "is a folder, not a file"
        case ENOTDIR: return "a part of the path is a file, not a folder"
        case ENOSPC: return "no space left on the disk"
        case EDQUOT: return "disk quota exceeded"
        case EROFS: return "the disk is read-only"
        case EFBIG: return "file too large (a file-size limit is set)"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}
