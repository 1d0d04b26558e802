/// A small CSV reader (RFC 4180: quoted fields, doubled quotes, CRLF or LF) with a header row.
struct CSVTable {
    let header: [String]
    /// Data rows with their 1-based line numbers in the file.
    let rows: [(line: Int, fields: [String])]

    init(text: String, path: String) throws {
        var records = [(line: Int, fields: [String])]()
        var field = "", fields = [String]()
        var inQuotes = false, line = 1, recordLine = 1, quotedField = false
        var chars = text.makeIterator()
        var pending: Character? = nil
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !quotedField) { records.append((recordLine, fields)) }
            fields = []; field = ""; quotedField = false
        }
        while let c = pending ?? chars.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { field.append("\"") } else { inQuotes = false; pending = n }
                    } else { inQuotes = false }
                } else {
                    if c == "\n" || c == "\r\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: inQuotes = true; quotedField = true
            case ",": fields.append(field); field = ""
            case "\n", "\r\n", "\r":
                endRecord(); line += 1; recordLine = line
            default: field.append(c)
            }
        }
        guard !inQuotes else { throw DatasetError.badList(path: path, line: recordLine, reason: "unterminated quote") }
        if !field.isEmpty || !fields.isEmpty || quotedField { endRecord() }
        guard let first = records.first else { throw DatasetError.badList(path: path, line: 1, reason: "no header row") }
        header = first.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        rows = Array(records.dropFirst())
    }

    func column(_ name: String) -> Int? { header.firstIndex(of: name) }
}

import Foundation
