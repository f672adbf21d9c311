import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A problem with one annotation file, phrased for whoever has to fix it:
/// "CellCounter_b3.xml: line 12: MarkerX 'abc' is not a number".
public struct AnnotationError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// Reads Fiji/ImageJ Cell Counter marker files:
/// `CellCounter_Marker_File/Image_Properties/Image_Filename` and
/// `Marker_Data/Marker_Type/{Type, Marker/{MarkerX (column), MarkerY (row), MarkerZ}}`.
/// Tolerates CRLF line ends, unknown elements (ignored), types with no markers and files with no markers.
public enum CellCounterXML {
    public static func read(_ path: String) throws -> AnnotationSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                throw AnnotationError(path: path, problem: isDir.boolValue ? "is a directory, expected a Cell Counter XML file"
                                                                           : "cannot be read (permission denied?)")
            }
            throw AnnotationError(path: path, problem: "no such file")
        }
        return try parse(data, path: path)
    }

    /// Parses XML bytes; `path` is used in messages and as the set's source.
    public static func parse(_ data: Data, path: String) throws -> AnnotationSet {
        if data.isEmpty { throw AnnotationError(path: path, problem: "is empty, expected Cell Counter XML") }
        let handler = Handler(path: path)
        let parser = XMLParser(data: data)
        parser.delegate = handler
        let ok = parser.parse()
        if let problem = handler.problem { throw AnnotationError(path: path, problem: problem) }
        if !ok {
            let reason = parser.parserError.map { ($0 as NSError).localizedDescription } ?? "unknown error"
            throw AnnotationError(path: path, problem: "line \(parser.lineNumber): not well-formed XML (\(reason))")
        }
        if let open = handler.stack.last {
            throw AnnotationError(path: path, problem: "line \(parser.lineNumber): file ends inside <\(open)> (truncated or not well-formed XML)")
        }
        guard handler.sawRoot else {
            throw AnnotationError(path: path, problem: "is XML but not a Cell Counter marker file (no Marker_Data or CellCounter_Marker_File element)")
        }
        return AnnotationSet(imageName: handler.imageName, markers: handler.markers, sourcePath: path)
    }

    private final class Handler: NSObject, XMLParserDelegate {
        let path: String
        var stack: [String] = []
        var text = ""
        var imageName: String?
        var markers: [Marker] = []
        var problem: String?
        var sawRoot = false
        // Current Marker_Type: its type number and the markers seen so far (type may come after them).
        var currentType: Int?
        var pending: [(x: Double, y: Double, line: Int)] = []
        var mx: Double?, my: Double?
        var typeLine = 0

        init(path: String) { self.path = path }

        func fail(_ parser: XMLParser, _ message: String) {
            if problem == nil { problem = "line \(parser.lineNumber): \(message)" }
            parser.abortParsing()
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            stack.append(name)
            text = ""
            switch name {
            case "CellCounter_Marker_File", "Marker_Data": sawRoot = true
            case "Marker_Type": currentType = nil; pending = []; typeLine = parser.lineNumber
            case "Marker": mx = nil; my = nil
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let parent = stack.count >= 2 ? stack[stack.count - 2] : ""
            defer { if !stack.isEmpty { stack.removeLast() }; text = "" }
            switch name {
            case "Image_Filename" where parent == "Image_Properties":
                imageName = value.isEmpty ? nil : value
            case "Type" where parent == "Marker_Type":
                guard let t = Int(value) else { return fail(parser, "marker Type '\(value)' is not an integer") }
                currentType = t
            case "MarkerX" where parent == "Marker":
                guard let v = Double(value), v.isFinite else { return fail(parser, "MarkerX '\(value)' is not a number") }
                mx = v
            case "MarkerY" where parent == "Marker":
                guard let v = Double(value), v.isFinite else { return fail(parser, "MarkerY '\(value)' is not a number") }
                my = v
            case "Marker" where parent == "Marker_Type":
                guard let x = mx, let y = my else {
                    return fail(parser, "Marker without \(mx == nil ? "MarkerX" : "MarkerY")")
                }
                pending.append((x, y, parser.lineNumber))
            case "Marker_Type":
                if !pending.isEmpty {
                    guard let t = currentType else {
                        return fail(parser, "Marker_Type starting at line \(typeLine) has markers but no Type number")
                    }
                    markers += pending.map { Marker(x: $0.x, y: $0.y, type: t) }
                }
                pending = []; currentType = nil
            default: break
            }
        }
    }
}
