/// HTML character references decoded like Python's `html.unescape` and ftfy's `unescape_html`.
///
/// Works on Unicode scalars (Python strings are code-point sequences; Swift `String` comparison would
/// treat U+037E as `;` and U+212A as `K` by canonical equivalence, so names are matched as ASCII bytes).
enum HTMLUnescaper {
    // MARK: - Tables

    /// Parsed entity tables (built once; the generated source keeps them as text for fast compiles).
    private struct Tables {
        /// `html.entities.html5`, keyed by the ASCII name (with `;` when the entity has one).
        var html5: [[UInt8]: [Unicode.Scalar]] = [:]
        /// ftfy's `HTML_ENTITIES` without the `&`: html5 names ending in `;` plus all-caps variants.
        var ftfy: [[UInt8]: [Unicode.Scalar]] = [:]
        /// Python's `_invalid_charrefs`: C1 references read as Windows-1252, 0 -> U+FFFD, 13 -> CR.
        var invalidCharrefs: [UInt32: Unicode.Scalar] = [:]
        /// Longest entity name, so prefix searches stay bounded.
        var longestName = 0

        init() {
            for (key, value) in TextCleaningTables.parse(TextCleaningTables.html5Entities) {
                html5[key] = value
                if key.last == UInt8(ascii: ";") { ftfy[key] = value }
                longestName = max(longestName, key.count)
            }
            for (key, value) in TextCleaningTables.parse(TextCleaningTables.ftfyUppercaseEntities) {
                ftfy[key] = value
            }
            for (key, value) in TextCleaningTables.parse(TextCleaningTables.c1Controls) {
                if let code = UInt32(String(decoding: key, as: UTF8.self), radix: 16), let scalar = value.first {
                    invalidCharrefs[code] = scalar
                }
            }
            invalidCharrefs[0x00] = "\u{FFFD}"
            invalidCharrefs[0x0D] = "\r"
        }
    }

    private static let tables = Tables()

    // MARK: - Python html.unescape

    /// Python's `html.unescape`: `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)`.
    static func unescape(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "&", let (replacement, end) = reference(in: text, at: index + 1) {
                out.append(contentsOf: replacement)
                index = end
            } else {
                out.append(text[index])
                index += 1
            }
        }
        return out
    }

    /// The reference starting after an `&` at `start`: its replacement and the index after it, or nil.
    private static func reference(in text: [Unicode.Scalar], at start: Int) -> ([Unicode.Scalar], Int)? {
        guard start < text.count else { return nil }
        if text[start] == "#" {
            var index = start + 1
            var radix: UInt32 = 10
            if index < text.count, text[index] == "x" || text[index] == "X",
               index + 1 < text.count, hexValue(text[index + 1]) != nil {
                radix = 16
                index += 1
            }
            var value: UInt32 = 0
            let digitsStart = index
            while index < text.count, let digit = radix == 16 ? hexValue(text[index]) : decimalValue(text[index]) {
                // Saturate: anything above U+10FFFF decodes to U+FFFD anyway.
                value = min(value &* radix &+ digit, 0x110000)
                index += 1
            }
            guard index > digitsStart else { return nil }
            if index < text.count, text[index] == ";" { index += 1 }
            return (numericReference(value), index)
        }
        var index = start
        while index < text.count, index - start < 32, !isNameTerminator(text[index]) { index += 1 }
        guard index > start else { return nil }
        if index < text.count, text[index] == ";" { index += 1 }
        let name = text[start..<index]
        if let value = lookup(name, in: tables.html5) { return (value, index) }
        // The longest prefix (at least 2 characters) that names an entity, as the HTML standard says.
        var length = name.count - 1
        while length > 1 {
            if let value = lookup(name.prefix(length), in: tables.html5) {
                return (value + name.dropFirst(length), index)
            }
            length -= 1
        }
        return nil
    }

    /// Python `_replace_charref` for a numeric reference.
    private static func numericReference(_ value: UInt32) -> [Unicode.Scalar] {
        if let replacement = tables.invalidCharrefs[value] { return [replacement] }
        guard let scalar = Unicode.Scalar(value) else { return ["\u{FFFD}"] }  // surrogate or > U+10FFFF
        if isInvalidCodePoint(value) { return [] }
        return [scalar]
    }

    /// Python's `_invalid_codepoints`: C0/C1 controls except whitespace, noncharacters.
    private static func isInvalidCodePoint(_ value: UInt32) -> Bool {
        switch value {
        case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F...0x9F, 0xFDD0...0xFDEF: return true
        default: return value & 0xFFFE == 0xFFFE
        }
    }

    private static func isNameTerminator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\u{0C}", " ", "<", "&", "#", ";": return true
        default: return false
        }
    }

    // MARK: - ftfy unescape_html

    /// ftfy's `unescape_html`: only `&#?[0-9A-Za-z]{1,24};` references, by ftfy's table (with all-caps
    /// names such as `&EACUTE;`); numeric ones go through `html.unescape` and must consume the `;`.
    static func ftfyUnescape(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            guard text[index] == "&" else {
                out.append(text[index])
                index += 1
                continue
            }
            var cursor = index + 1
            let numeric = cursor < text.count && text[cursor] == "#"
            if numeric { cursor += 1 }
            let nameStart = cursor
            while cursor < text.count, isASCIIAlphanumeric(text[cursor]) { cursor += 1 }
            let length = cursor - nameStart
            guard length >= 1, length <= 24, cursor < text.count, text[cursor] == ";" else {
                out.append(text[index])
                index += 1
                continue
            }
            let match = Array(text[index...cursor])
            if !numeric, let value = lookup(match.dropFirst(), in: tables.ftfy) {
                out.append(contentsOf: value)
            } else if numeric {
                let decoded = unescape(match)
                out.append(contentsOf: decoded.contains(";") ? match : decoded)
            } else {
                out.append(contentsOf: match)
            }
            index = cursor + 1
        }
        return out
    }

    // MARK: - Helpers

    /// Looks up an all-ASCII name; any other scalar cannot be part of an entity name.
    private static func lookup(_ name: ArraySlice<Unicode.Scalar>,
                               in table: [[UInt8]: [Unicode.Scalar]]) -> [Unicode.Scalar]? {
        guard name.count <= tables.longestName else { return nil }
        var key: [UInt8] = []
        key.reserveCapacity(name.count)
        for scalar in name {
            guard scalar.isASCII else { return nil }
            key.append(UInt8(scalar.value))
        }
        return table[key]
    }

    private static func decimalValue(_ scalar: Unicode.Scalar) -> UInt32? {
        (0x30...0x39).contains(scalar.value) ? scalar.value - 0x30 : nil
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar.value {
        case 0x30...0x39: return scalar.value - 0x30
        case 0x41...0x46: return scalar.value - 0x41 + 10
        case 0x61...0x66: return scalar.value - 0x61 + 10
        default: return nil
        }
    }

    private static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return false
        }
    }
}

extension TextCleaningTables {
    /// Parses the generated `key=HEX HEX` lines into (key bytes, scalars).
    static func parse(_ table: String) -> [([UInt8], [Unicode.Scalar])] {
        table.utf8.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let key = Array(line[line.startIndex..<equals])
            let value = line[line.index(after: equals)...].split(separator: UInt8(ascii: " ")).compactMap {
                UInt32(String(decoding: $0, as: UTF8.self), radix: 16).flatMap(Unicode.Scalar.init)
            }
            return (key, value)
        }
    }
}
