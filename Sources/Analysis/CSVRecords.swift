import Foundation

/// Splits CSV text into records of fields (RFC 4180 plus what spreadsheets write): LF or CRLF line
/// ends, fields in double quotes may hold commas, line breaks and doubled quotes (`""`), a leading
/// byte-order mark is dropped, blank lines (also rows of empty cells, `,,,`) are skipped, unquoted
/// fields are trimmed of surrounding spaces.
public enum CSVRecords {
    public struct Record: Sendable {
        /// 1-based line on which the record starts.
        public let line: Int
        public let fields: [String]
    }

    public struct UnterminatedQuote: Error {
        public let line: Int
    }

    public static func parse(_ text: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var quoted = false          // inside "…"
        var wasQuoted = false       // this field began with a quote: keep its inner spaces
        var line = 1, recordLine = 1, quoteLine = 1
        var scalars = text.unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }

        func endField() {
            let text = String(field)
            fields.append(wasQuoted ? text : text.trimmingCharacters(in: .whitespaces))
            field = String.UnicodeScalarView(); wasQuoted = false
        }
        func endRecord() {
            endField()
            if !fields.allSatisfy(\.isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
        }

        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            let next = scalars.index(after: i)
            if quoted {
                if c == "\"" {
                    if next < scalars.endIndex && scalars[next] == "\"" {
                        field.append("\""); i = scalars.index(after: next); continue
                    }
                    quoted = false
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
            } else if c == "\"" && String(field).allSatisfy({ $0 == " " }) && !wasQuoted {
                field = String.UnicodeScalarView(); quoted = true; wasQuoted = true; quoteLine = line
            } else if c == "," {
                endField()
            } else if c == "\n" || c == "\r" {
                endRecord()
                if c == "\r" && next < scalars.endIndex && scalars[next] == "\n" { i = scalars.index(after: next) } else { i = next }
                line += 1; recordLine = line
                continue
            } else if !(wasQuoted && c == " ") {
                field.append(c)
            }
            i = next
        }
        if quoted { throw UnterminatedQuote(line: quoteLine) }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return records
    }
}
