import Foundation

/// OpenAI CLIP's BPE tokenizer, matching `open_clip.tokenize` id for id (open_clip `SimpleTokenizer`
/// with its default `clean='lower'`; see `TextCleaner` for the parts of ftfy that are not ported).
public final class CLIPTokenizer: @unchecked Sendable {
    // MARK: - Constants

    /// `<start_of_text>` id.
    public static let startOfText = BytePairEncoder.startOfText
    /// `<end_of_text>` id.
    public static let endOfText = BytePairEncoder.endOfText
    /// Context length of every OpenAI CLIP text tower.
    public static let defaultContextLength = 77
    /// Number of token ids (49408).
    public static let vocabularySize = BytePairEncoder.vocabularySize

    // MARK: - State

    private let encoder: BytePairEncoder
    /// Per-word cache, like open_clip's `self.cache`; guarded by `lock` (the class is shared across threads).
    private var cache: [[UInt8]: [Int32]] = [:]
    private let lock = NSLock()
    /// Cache entries kept before the cache is emptied, so hostile input cannot grow it without bound.
    private static let cacheLimit = 65_536

    // MARK: - Loading

    /// Loads a gzip-compressed `bpe_simple_vocab_16e6.txt`.
    public init(vocabularyGzipURL: URL) throws {
        let text = try GzipResource.contents(of: vocabularyGzipURL)
        encoder = try BytePairEncoder(vocabularyText: text, name: vocabularyGzipURL.lastPathComponent)
    }

    /// Builds the tokenizer from already decompressed vocabulary text (`name` is used in errors).
    init(vocabularyText: [UInt8], name: String) throws {
        encoder = try BytePairEncoder(vocabularyText: vocabularyText, name: name)
    }

    /// Location of the vocabulary bundled with the CLIP module (from the open_clip_torch wheel).
    static func bundledVocabularyURL() -> URL? {
        Bundle.module.url(forResource: "bpe_simple_vocab_16e6.txt", withExtension: "gz")
    }

    private static let sharedResult: Result<CLIPTokenizer, TokenizerError> = {
        let name = "bpe_simple_vocab_16e6.txt.gz"
        guard let url = bundledVocabularyURL() else { return .failure(.missingResource(name)) }
        do {
            return .success(try CLIPTokenizer(vocabularyGzipURL: url))
        } catch let error as TokenizerError {
            return .failure(error)
        } catch {
            return .failure(.unreadable(path: name, reason: "\(error)"))
        }
    }()

    /// The tokenizer for the bundled vocabulary, loaded once per process.
    public static func shared() throws -> CLIPTokenizer {
        try sharedResult.get()
    }

    // MARK: - Encoding

    /// Token ids of `text` without `<start_of_text>`/`<end_of_text>` (open_clip `SimpleTokenizer.encode`).
    public func encode(_ text: String) -> [Int] {
        encode(text, limit: .max)
    }

    /// `[SOT] + encode(text) + [EOT]`, cut to `contextLength` with the last id set to EOT; unpadded.
    public func tokenize(_ text: String, contextLength: Int = CLIPTokenizer.defaultContextLength) -> [Int] {
        precondition(contextLength >= 1, "CLIPTokenizer: context length must be at least 1, got \(contextLength)")
        // Ids past the context are cut anyway; stopping early keeps very long text cheap.
        var tokens = [Self.startOfText] + encode(text, limit: contextLength) + [Self.endOfText]
        if tokens.count > contextLength {
            tokens.removeLast(tokens.count - contextLength)
            tokens[contextLength - 1] = Self.endOfText
        }
        return tokens
    }

    /// `open_clip.tokenize(texts, context_length)`: one row per text, zero-padded to `contextLength`.
    public func tokenizePadded(_ texts: [String],
                               contextLength: Int = CLIPTokenizer.defaultContextLength) -> [[Int32]] {
        texts.map { text in
            var row = [Int32](repeating: 0, count: contextLength)
            for (index, id) in tokenize(text, contextLength: contextLength).enumerated() { row[index] = Int32(id) }
            return row
        }
    }

    /// Encodes up to about `limit` ids (whole words, so possibly a few more).
    private func encode(_ text: String, limit: Int) -> [Int] {
        let scalars = TextCleaner.clean(text)
        var ids: [Int] = []
        for piece in PreTokenizer.split(scalars) {
            if ids.count >= limit { break }
            switch piece {
            case .special(let id):
                ids.append(id)
            case .word(let range):
                var bytes: [UInt8] = []
                for scalar in scalars[range] { UTF8.encode(scalar) { bytes.append($0) } }
                ids.append(contentsOf: word(bytes).lazy.map { Int($0) })
            }
        }
        return ids
    }

    /// BPE ids of one word's UTF-8 bytes, through the cache.
    private func word(_ bytes: [UInt8]) -> [Int32] {
        lock.lock()
        let cached = cache[bytes]
        lock.unlock()
        if let cached { return cached }
        let ids = encoder.encodeWord(bytes)
        lock.lock()
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[bytes] = ids
        lock.unlock()
        return ids
    }

    // MARK: - Decoding

    /// Raw bytes of the vocabulary string of `id` (`</w>` included), empty outside the vocabulary.
    func vocabularyBytes(_ id: Int) -> [UInt8] {
        id >= 0 && id < encoder.tokenBytes.count ? encoder.tokenBytes[id] : []
    }

    /// Text of token ids, like open_clip's `decode`: `</w>` becomes a space, bad UTF-8 becomes U+FFFD,
    /// special tokens appear literally. Ids outside 0...49407 are skipped (note 0 is `!`, not padding).
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: vocabularyBytes(id)) }
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "</w>", with: " ")
    }
}
