import Foundation

/// open_clip's default text cleaning (`clean='lower'`): `whitespace_clean(basic_clean(text)).lower()`.
///
/// `basic_clean` is `ftfy.fix_text`, then `html.unescape` twice, then `strip`. ftfy's default fixers are
/// ported here in ftfy's order and with its per-line fixed-point loop (ftfy 6.3.1): `unescape_html`
/// (skipped, for this and every later line, once a line contains `<`), `fix_c1_controls`,
/// `fix_latin_ligatures`, `fix_character_width`, `uncurl_quotes` (on by default: curly quotes become
/// straight), `fix_line_breaks`, `remove_terminal_escapes`, `remove_control_chars`, NFC.
///
/// Not ported: `fix_encoding` (mojibake repair such as "cafÃ©" -> "café"; it needs ftfy's statistical
/// badness heuristics and codec tables) and `fix_surrogates` (Swift strings cannot hold lone surrogates).
/// Text that ftfy would re-decode therefore tokenizes differently; ordinary text is unaffected. Unicode
/// tables come from Swift's runtime, Python 3.11 uses Unicode 14: code points assigned later may differ.
enum TextCleaner {
    // MARK: - Pipeline

    /// The cleaned text as Unicode scalars (Python code points).
    static func clean(_ text: String) -> [Unicode.Scalar] {
        var scalars = fixText(Array(text.unicodeScalars))
        scalars = HTMLUnescaper.unescape(HTMLUnescaper.unescape(scalars))
        return lowercased(collapseWhitespace(scalars))
    }

    // MARK: - ftfy.fix_text

    /// Lines (with their `\n`) longer than this are split, like ftfy's `max_decode_length`.
    private static let maximumSegmentLength = 1_000_000

    /// `ftfy.fix_text` with the default configuration, minus `fix_encoding`.
    static func fixText(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var unescapeHTML = true
        var start = 0
        while start < text.count {
            var end = text[start...].firstIndex(of: "\n").map { $0 + 1 } ?? text.count
            end = min(end, start + maximumSegmentLength)
            let segment = Array(text[start..<end])
            // ftfy replaces its config here, so one line with '<' turns unescaping off for the rest.
            if unescapeHTML && segment.contains("<") { unescapeHTML = false }
            out.append(contentsOf: fixSegment(segment, unescapeHTML: unescapeHTML))
            start = end
        }
        return out
    }

    /// ftfy `fix_and_explain`: apply the fixers until the text stops changing.
    private static func fixSegment(_ segment: [Unicode.Scalar], unescapeHTML: Bool) -> [Unicode.Scalar] {
        var text = segment
        while true {
            let original = text
            if unescapeHTML { text = HTMLUnescaper.ftfyUnescape(text) }
            text = fixC1Controls(text)
            text = translate(text, tables.ligatures)
            text = translate(text, tables.width)
            text = uncurlQuotes(text)
            text = fixLineBreaks(text)
            text = removeTerminalEscapes(text)
            text = text.filter { !tables.controlCharacters.contains($0.value) }
            text = nfc(text)
            if text == original { return text }
        }
    }

    private struct Tables {
        var ligatures: [UInt32: [Unicode.Scalar]] = [:]
        var width: [UInt32: [Unicode.Scalar]] = [:]
        var c1: [UInt32: [Unicode.Scalar]] = [:]
        var controlCharacters: Set<UInt32> = []

        init() {
            func load(_ text: String) -> [UInt32: [Unicode.Scalar]] {
                var map: [UInt32: [Unicode.Scalar]] = [:]
                for (key, value) in TextCleaningTables.parse(text) {
                    if let code = UInt32(String(decoding: key, as: UTF8.self), radix: 16) { map[code] = value }
                }
                return map
            }
            ligatures = load(TextCleaningTables.ligatures)
            width = load(TextCleaningTables.widthMap)
            c1 = load(TextCleaningTables.c1Controls)
            controlCharacters = Set(TextCleaningTables.controlCharacters.split(separator: " ").compactMap {
                UInt32($0, radix: 16)
            })
        }
    }

    private static let tables = Tables()

    /// Python `str.translate` with a code point -> text map.
    private static func translate(_ text: [Unicode.Scalar], _ map: [UInt32: [Unicode.Scalar]]) -> [Unicode.Scalar] {
        guard text.contains(where: { map[$0.value] != nil }) else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for scalar in text {
            if let replacement = map[scalar.value] { out.append(contentsOf: replacement) } else { out.append(scalar) }
        }
        return out
    }

    /// ftfy `fix_c1_controls`: U+0080...U+009F read as Windows-1252 (undefined bytes kept).
    private static func fixC1Controls(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        translate(text, tables.c1)
    }

    /// ftfy `uncurl_quotes`: `[\u02bc\u2018-\u201b]` -> `'`, `[\u201c-\u201f]` -> `"`.
    private static func uncurlQuotes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.map { scalar in
            switch scalar.value {
            case 0x02BC, 0x2018...0x201B: return "'"
            case 0x201C...0x201F: return "\""
            default: return scalar
            }
        }
    }

    /// ftfy `fix_line_breaks`: CRLF, CR, U+2028, U+2029, U+0085 -> LF.
    private static func fixLineBreaks(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            switch text[index] {
            case "\r":
                out.append("\n")
                if index + 1 < text.count && text[index + 1] == "\n" { index += 1 }
            case "\u{2028}", "\u{2029}", "\u{85}":
                out.append("\n")
            default:
                out.append(text[index])
            }
            index += 1
        }
        return out
    }

    /// ftfy `remove_terminal_escapes`: `\x1b\[(\d|;)*[a-zA-Z]` removed (`\d` is any Nd digit, as in `re`).
    private static func removeTerminalEscapes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("\u{1B}") else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "\u{1B}", index + 1 < text.count, text[index + 1] == "[" {
                var cursor = index + 2
                while cursor < text.count,
                      text[cursor] == ";" || text[cursor].properties.generalCategory == .decimalNumber {
                    cursor += 1
                }
                if cursor < text.count, isASCIILetter(text[cursor]) {
                    index = cursor + 1
                    continue
                }
            }
            out.append(text[index])
            index += 1
        }
        return out
    }

    /// Unicode NFC (ftfy's `normalization="NFC"`).
    private static func nfc(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // ASCII is already NFC; skip the Foundation round trip for it.
        guard text.contains(where: { !$0.isASCII }) else { return text }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text)
        return Array(String(view).precomposedStringWithCanonicalMapping.unicodeScalars)
    }

    // MARK: - Whitespace and case

    /// Python `str.isspace`: bidi class WS, B or S, or category Zs.
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `" ".join(text.split())`: runs of whitespace become one space, ends trimmed (covers `strip`).
    static func collapseWhitespace(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var pendingSpace = false
        for scalar in text {
            if isPythonSpace(scalar) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(scalar)
            }
        }
        return out
    }

    /// Python `str.lower`: full lower-case mapping, with the final-sigma rule for U+03A3.
    static func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for (index, scalar) in text.enumerated() {
            if scalar.isASCII {
                out.append(isASCIIUpper(scalar) ? Unicode.Scalar(scalar.value + 0x20) ?? scalar : scalar)
            } else if scalar == "\u{03A3}" {
                out.append(isFinalSigma(text, at: index) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// CPython `handle_capital_sigma`: cased letter before (skipping case-ignorables) and none after.
    private static func isFinalSigma(_ text: [Unicode.Scalar], at index: Int) -> Bool {
        var before = index - 1
        while before >= 0 && text[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0 && text[before].properties.isCased else { return false }
        var after = index + 1
        while after < text.count && text[after].properties.isCaseIgnorable { after += 1 }
        return after == text.count || !text[after].properties.isCased
    }

    private static func isASCIIUpper(_ scalar: Unicode.Scalar) -> Bool { (0x41...0x5A).contains(scalar.value) }

    private static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
        (0x41...0x5A).contains(scalar.value) || (0x61...0x7A).contains(scalar.value)
    }
}
