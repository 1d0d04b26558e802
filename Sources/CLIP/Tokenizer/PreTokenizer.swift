/// Splits cleaned text into the words BPE sees, like open_clip's pattern (Python `regex`, IGNORECASE):
/// `<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`.
///
/// A hand-written scanner: at each position the alternatives are tried in that order, and a position
/// where none matches (whitespace) is skipped, which is what `re.findall` does.
enum PreTokenizer {
    /// One match of the pattern.
    enum Piece: Equatable {
        /// A literal special token (`<start_of_text>` or `<end_of_text>`), mapped straight to its id.
        case special(Int)
        /// Any other match, as a range of the scalar array.
        case word(Range<Int>)
    }

    /// What a code point can start, as the `regex` module classifies it.
    enum CharacterClass: Equatable {
        case letter, number, space, other
        /// Matches no alternative: U+0345 folds to a letter under IGNORECASE, so `[^...\p{L}...]`
        /// rejects it, yet it is no letter itself.
        case none
    }

    /// Class of one code point (general category from Swift's Unicode tables).
    static func characterClass(_ scalar: Unicode.Scalar) -> CharacterClass {
        if scalar.isASCII {
            switch scalar.value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        if scalar.value == 0x0345 { return .none }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            // The regex module's \s: Python's str.isspace minus U+001C...U+001F.
            return TextCleaner.isPythonSpace(scalar) ? .space : .other
        }
    }

    private static let specials: [([Unicode.Scalar], Int)] = [
        (Array("<start_of_text>".unicodeScalars), BytePairEncoder.startOfText),
        (Array("<end_of_text>".unicodeScalars), BytePairEncoder.endOfText),
    ]

    /// Contraction suffixes after the apostrophe, in pattern order.
    private static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map {
        Array($0.unicodeScalars)
    }

    /// All matches in `text`, in order.
    static func split(_ text: [Unicode.Scalar]) -> [Piece] {
        var pieces: [Piece] = []
        var index = 0
        while index < text.count {
            let scalar = text[index]
            if scalar == "<", let (id, length) = special(in: text, at: index) {
                pieces.append(.special(id))
                index += length
                continue
            }
            if scalar == "'", let length = contraction(in: text, at: index) {
                pieces.append(.word(index..<(index + length)))
                index += length
                continue
            }
            let kind = characterClass(scalar)
            switch kind {
            case .letter, .other:
                var end = index + 1
                while end < text.count && characterClass(text[end]) == kind { end += 1 }
                pieces.append(.word(index..<end))
                index = end
            case .number:
                pieces.append(.word(index..<(index + 1)))
                index += 1
            case .space, .none:
                index += 1
            }
        }
        return pieces
    }

    /// A special token literal at `index` (ASCII case-insensitive): its id and length.
    private static func special(in text: [Unicode.Scalar], at index: Int) -> (Int, Int)? {
        for (literal, id) in specials where matches(literal, in: text, at: index, foldLongS: false) {
            return (id, literal.count)
        }
        return nil
    }

    /// Length of a contraction (`'s`, `'t`, ...) at `index`, or nil.
    private static func contraction(in text: [Unicode.Scalar], at index: Int) -> Int? {
        for suffix in contractions where matches(suffix, in: text, at: index + 1, foldLongS: true) {
            return suffix.count + 1
        }
        return nil
    }

    /// Case-insensitive match of an ASCII lower-case literal. The regex module also lets a lone `s`
    /// match U+017F LATIN SMALL LETTER LONG S (checked against it: `'ſ` is a contraction, while
    /// `<ſtart_of_text>` is not a special token).
    private static func matches(_ literal: [Unicode.Scalar], in text: [Unicode.Scalar], at index: Int,
                                foldLongS: Bool) -> Bool {
        guard index + literal.count <= text.count else { return false }
        for (offset, expected) in literal.enumerated() {
            var actual = text[index + offset]
            if (0x41...0x5A).contains(actual.value), let lower = Unicode.Scalar(actual.value + 0x20) { actual = lower }
            if actual == expected { continue }
            if foldLongS && expected == "s" && actual == "\u{017F}" { continue }
            return false
        }
        return true
    }
}
