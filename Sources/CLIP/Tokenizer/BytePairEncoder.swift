/// OpenAI CLIP's byte-level BPE: the vocabulary, the merge ranks and the per-word merge loop.
///
/// Follows open_clip `SimpleTokenizer` (`bytes_to_unicode`, `__init__`, `bpe`): token ids are
/// the 256 byte symbols, the same with `</w>`, one id per merge line in file order, then the two
/// special tokens. Symbols are handled as ids, never as strings, so a merge is one table lookup.
struct BytePairEncoder: Sendable {
    // MARK: - Constants

    /// Merge lines used by open_clip: `lines[1 : 49152-256-2+1]`.
    static let mergeCount = 49152 - 256 - 2
    /// Ids of the base symbols: 256 bytes, then the same bytes with `</w>` appended.
    static let baseSymbolCount = 512
    /// `<start_of_text>` follows the merges.
    static let startOfText = baseSymbolCount + mergeCount
    /// `<end_of_text>` is the last id.
    static let endOfText = startOfText + 1
    /// Total vocabulary size (49408).
    static let vocabularySize = endOfText + 1

    // MARK: - Tables

    /// Printable character that stands for each byte (`bytes_to_unicode`).
    let byteSymbols: [Unicode.Scalar]
    /// Id of the symbol of each byte; add 256 for the `</w>` variant.
    let byteIDs: [Int32]
    /// `(left << 32 | right)` -> `(rank << 32 | merged id)`; the rank orders merges, lowest first.
    let merges: [UInt64: UInt64]
    /// The vocabulary string of every id, decoded back to raw bytes (`</w>` kept as its 4 bytes).
    let tokenBytes: [[UInt8]]
    /// Whether every merge only uses symbols made by earlier merges (true for CLIP's file). Then a new
    /// pair always ranks after the merge that made it, and the heap merge order equals Python's passes.
    let mergesAreOrdered: Bool

    // MARK: - Loading

    /// Builds the tables from the decompressed `bpe_simple_vocab_16e6.txt` (`name` is used in errors).
    init(vocabularyText text: [UInt8], name: String) throws {
        let (symbols, order) = Self.bytesToUnicode()
        byteSymbols = symbols
        var ids = [Int32](repeating: 0, count: 256)
        for (index, byte) in order.enumerated() { ids[Int(byte)] = Int32(index) }
        byteIDs = ids

        // Vocabulary strings as UTF-8 bytes, in id order; keys are exactly Python's strings.
        let endOfWord = Array("</w>".utf8)
        var strings: [[UInt8]] = []
        strings.reserveCapacity(Self.vocabularySize)
        for byte in order { strings.append(Array(String(Character(symbols[Int(byte)])).utf8)) }
        for index in 0..<256 { strings.append(strings[index] + endOfWord) }

        let lines = Self.mergeLines(text)
        guard lines.count >= Self.mergeCount else {
            throw TokenizerError.malformedVocabulary(
                path: name, reason: "\(lines.count) merge lines after the header, expected at least \(Self.mergeCount)")
        }
        var pairs: [([UInt8], [UInt8])] = []
        pairs.reserveCapacity(Self.mergeCount)
        for (number, line) in lines.prefix(Self.mergeCount).enumerated() {
            let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
            guard fields.count == 2 else {
                throw TokenizerError.malformedVocabulary(
                    path: name, reason: "line \(number + 2) has \(fields.count) fields, expected 2")
            }
            let pair = (Array(fields[0]), Array(fields[1]))
            pairs.append(pair)
            strings.append(pair.0 + pair.1)
        }
        strings.append(Array("<start_of_text>".utf8))
        strings.append(Array("<end_of_text>".utf8))

        // Python's `dict(zip(vocab, range))` keeps the last id of a repeated string.
        var idOfString: [[UInt8]: Int32] = [:]
        idOfString.reserveCapacity(strings.count)
        for (id, string) in strings.enumerated() { idOfString[string] = Int32(id) }

        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(pairs.count)
        var ordered = true
        for (rank, pair) in pairs.enumerated() {
            guard let left = idOfString[pair.0], let right = idOfString[pair.1],
                  let merged = idOfString[pair.0 + pair.1] else {
                throw TokenizerError.malformedVocabulary(
                    path: name, reason: "line \(rank + 2) merges a symbol that no earlier line defines")
            }
            // Ids >= 512 are merge results; id 512 + r comes from line r.
            if Int(left) >= Self.baseSymbolCount + rank || Int(right) >= Self.baseSymbolCount + rank { ordered = false }
            let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
            // `dict(zip(merges, range))` also keeps the last rank of a repeated pair.
            table[key] = UInt64(rank) << 32 | UInt64(UInt32(merged))
        }
        merges = table
        mergesAreOrdered = ordered

        // Raw bytes of each vocabulary string, for `decode`.
        var decoder = [UInt8](repeating: 0, count: 0x144)
        for byte in 0..<256 { decoder[Int(symbols[byte].value)] = UInt8(byte) }
        tokenBytes = strings.map { string in
            String(decoding: string, as: UTF8.self).unicodeScalars.map { scalar in
                Int(scalar.value) < decoder.count ? decoder[Int(scalar.value)] : 0x3F
            }
        }
    }

    /// Lines after the `#version` header, split on `\n` like Python's `split('\n')`.
    private static func mergeLines(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
        return Array(lines.dropFirst())
    }

    /// `bytes_to_unicode`: printable Latin-1 bytes stand for themselves, the others move to U+0100...
    /// Returns the symbol of each byte and the byte order of the vocabulary.
    static func bytesToUnicode() -> (symbols: [Unicode.Scalar], order: [UInt8]) {
        var order: [UInt8] = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var symbols = [Unicode.Scalar](repeating: " ", count: 256)
        for byte in order { symbols[Int(byte)] = Unicode.Scalar(byte) }
        var next: UInt32 = 256
        for byte in 0...255 where !order.contains(UInt8(byte)) {
            order.append(UInt8(byte))
            symbols[byte] = Unicode.Scalar(next) ?? " "
            next += 1
        }
        return (symbols, order)
    }

    // MARK: - Encoding

    /// Words up to this many bytes use the simple pass loop; longer ones the heap (O(n log n)).
    static let heapThreshold = 48

    /// Ids of one pre-token (its UTF-8 bytes), as open_clip's `bpe`.
    func encodeWord(_ bytes: [UInt8]) -> [Int32] {
        bytes.count > Self.heapThreshold && mergesAreOrdered ? encodeWordWithHeap(bytes) : encodeWordByPasses(bytes)
    }

    /// open_clip's `bpe` literally: repeatedly merge every occurrence of the lowest-ranked adjacent
    /// pair, left to right, until no pair has a rank. O(n^2) in the word length.
    func encodeWordByPasses(_ bytes: [UInt8]) -> [Int32] {
        guard !bytes.isEmpty else { return [] }
        var word = bytes.map { byteIDs[Int($0)] }
        word[word.count - 1] += 256
        var next: [Int32] = []
        next.reserveCapacity(word.count)
        while word.count > 1 {
            var bestRank = UInt64.max
            var best: UInt64 = 0
            for index in 0..<(word.count - 1) {
                let key = UInt64(UInt32(word[index])) << 32 | UInt64(UInt32(word[index + 1]))
                if let entry = merges[key], entry < bestRank {
                    bestRank = entry
                    best = key
                }
            }
            if bestRank == .max { break }
            let first = Int32(truncatingIfNeeded: best >> 32)
            let second = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            let merged = Int32(truncatingIfNeeded: bestRank & 0xFFFF_FFFF)
            next.removeAll(keepingCapacity: true)
            var index = 0
            while index < word.count {
                if index + 1 < word.count && word[index] == first && word[index + 1] == second {
                    next.append(merged)
                    index += 2
                } else {
                    next.append(word[index])
                    index += 1
                }
            }
            swap(&word, &next)
        }
        return word
    }
}

extension BytePairEncoder {
    // MARK: - Heap merge

    /// Same result as `encodeWordByPasses` when `mergesAreOrdered`: pairs are merged in (rank, position)
    /// order from a min-heap over a linked list of symbols, so a very long word costs O(n log n).
    /// Stale heap entries (a side already merged away) are skipped when popped.
    func encodeWordWithHeap(_ bytes: [UInt8]) -> [Int32] {
        let count = bytes.count
        guard count > 0 else { return [] }
        var symbols = bytes.map { byteIDs[Int($0)] }
        symbols[count - 1] += 256
        var next = Array(1...count)        // `count` means none
        var previous = Array(-1..<(count - 1))
        var alive = [Bool](repeating: true, count: count)
        var heap = MinHeap()

        func pushPair(at index: Int) {
            let right = next[index]
            guard right < count else { return }
            let key = UInt64(UInt32(symbols[index])) << 32 | UInt64(UInt32(symbols[right]))
            if let entry = merges[key] { heap.push((entry & 0xFFFF_FFFF_0000_0000) | UInt64(index)) }
        }
        for index in 0..<(count - 1) { pushPair(at: index) }

        while let top = heap.pop() {
            let rank = top >> 32
            let index = Int(top & 0xFFFF_FFFF)
            let right = next[index]
            guard alive[index], right < count else { continue }
            let key = UInt64(UInt32(symbols[index])) << 32 | UInt64(UInt32(symbols[right]))
            guard let entry = merges[key], entry >> 32 == rank else { continue }
            symbols[index] = Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF)
            alive[right] = false
            next[index] = next[right]
            if next[index] < count { previous[next[index]] = index }
            if previous[index] >= 0 { pushPair(at: previous[index]) }
            pushPair(at: index)
        }
        var word: [Int32] = []
        var index = 0                      // the first symbol is never merged away
        while index < count {
            word.append(symbols[index])
            index = next[index]
        }
        return word
    }
}

/// A binary min-heap of packed `(rank << 32 | position)` keys.
private struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < items.count else { break }
                var smallest = left
                if left + 1 < items.count && items[left + 1] < items[left] { smallest = left + 1 }
                if items[parent] <= items[smallest] { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
