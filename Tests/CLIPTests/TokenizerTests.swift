import Foundation
import XCTest
@testable import CLIP

/// Compares the Swift CLIP tokenizer with `open_clip.tokenize` on the texts in
/// `Fixtures/tokenizer_reference.json` (written by tools/fixtures/make_tokenizer_fixtures.py).
final class TokenizerTests: XCTestCase {
    // MARK: - Fixture

    private struct Reference: Decodable {
        struct Entry: Decodable {
            let name: String
            let text: String
            let context_length: Int
            let cleaned: String
            let ids: [Int]
            let decoded: String?
            /// Set by the script for texts whose ftfy result needs mojibake repair (not ported).
            let excluded: String?
        }
        struct VocabularySample: Decodable {
            let id: Int
            let bytes: String
        }
        let vocabulary_size: Int
        let start_of_text: Int
        let end_of_text: Int
        let vocabulary_samples: [VocabularySample]
        let texts: [Entry]
        let character_classes: [String: [[Int]]]
        let python_lowercase: [[LowercaseField]]
    }

    /// `[code point, [lower-case code points]]` rows.
    private enum LowercaseField: Decodable {
        case point(Int)
        case points([Int])
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int.self) { self = .point(value) } else {
                self = .points(try container.decode([Int].self))
            }
        }
    }

    /// The only texts the fixture may exclude, and why (see `TextCleaner`: ftfy's fix_encoding is not ported).
    private static let expectedExclusions: Set<String> = ["mojibake", "mojibake-latin"]

    private static let reference: Reference? = {
        guard let url = Bundle.module.url(forResource: "tokenizer_reference", withExtension: "json",
                                          subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(Reference.self, from: data)
    }()

    private func loadReference() throws -> Reference {
        try XCTUnwrap(Self.reference, "tokenizer_reference.json missing or unreadable")
    }

    private func scalars(_ text: String) -> [UInt32] { text.unicodeScalars.map(\.value) }

    // MARK: - Vocabulary

    func testVocabularyMatchesPython() throws {
        let reference = try loadReference()
        XCTAssertEqual(CLIPTokenizer.vocabularySize, reference.vocabulary_size)
        XCTAssertEqual(CLIPTokenizer.startOfText, reference.start_of_text)
        XCTAssertEqual(CLIPTokenizer.endOfText, reference.end_of_text)
        let tokenizer = try CLIPTokenizer.shared()
        for sample in reference.vocabulary_samples {
            let hex = tokenizer.vocabularyBytes(sample.id).map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(hex, sample.bytes, "vocabulary id \(sample.id)")
        }
    }

    // MARK: - Token ids

    func testTokenIDsMatchOpenCLIP() throws {
        let reference = try loadReference()
        let tokenizer = try CLIPTokenizer.shared()
        var matched = 0
        var excluded: [String] = []
        for entry in reference.texts {
            if let reason = entry.excluded {
                XCTAssertTrue(Self.expectedExclusions.contains(entry.name),
                              "\(entry.name) excluded by the fixture (\(reason)) but not listed in the test")
                excluded.append(entry.name)
                continue
            }
            let ids = tokenizer.tokenize(entry.text, contextLength: entry.context_length)
            XCTAssertEqual(ids, entry.ids, "\(entry.name): \(entry.text.debugDescription)")
            if ids == entry.ids { matched += 1 }
        }
        XCTAssertEqual(Set(excluded), Self.expectedExclusions)
        XCTAssertGreaterThan(matched, 300)
        print("TokenizerTests: \(matched)/\(reference.texts.count - excluded.count) texts match open_clip; "
              + "excluded (ftfy mojibake repair not ported): \(excluded.joined(separator: ", "))")
    }

    func testCleaningMatchesOpenCLIP() throws {
        let reference = try loadReference()
        for entry in reference.texts where entry.excluded == nil {
            XCTAssertEqual(TextCleaner.clean(entry.text).map(\.value), scalars(entry.cleaned),
                           "\(entry.name): \(entry.text.debugDescription)")
        }
    }

    func testPaddedRowsMatchOpenCLIP() throws {
        let reference = try loadReference()
        let tokenizer = try CLIPTokenizer.shared()
        let entries = reference.texts.filter { $0.excluded == nil && $0.context_length == 16 }
        XCTAssertFalse(entries.isEmpty)
        let rows = tokenizer.tokenizePadded(entries.map(\.text), contextLength: 16)
        XCTAssertEqual(rows.count, entries.count)
        for (row, entry) in zip(rows, entries) {
            let expected = entry.ids.map { Int32($0) } + [Int32](repeating: 0, count: 16 - entry.ids.count)
            XCTAssertEqual(row, expected, entry.name)
        }
        XCTAssertEqual(tokenizer.tokenizePadded([""]).first?.count, 77)
    }

    func testEncodeIsTokenizeWithoutSpecials() throws {
        let reference = try loadReference()
        let tokenizer = try CLIPTokenizer.shared()
        for entry in reference.texts where entry.excluded == nil && entry.ids.count < entry.context_length {
            XCTAssertEqual([CLIPTokenizer.startOfText] + tokenizer.encode(entry.text) + [CLIPTokenizer.endOfText],
                           entry.ids, entry.name)
        }
    }

    func testDecodeMatchesOpenCLIP() throws {
        let reference = try loadReference()
        let tokenizer = try CLIPTokenizer.shared()
        var checked = 0
        for entry in reference.texts {
            guard let decoded = entry.decoded else { continue }
            XCTAssertEqual(tokenizer.decode(entry.ids), decoded, entry.name)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 3)
    }

    // MARK: - Unicode tables

    /// Swift's general categories must classify every code point like the `regex` module, except code points
    /// that Swift's (older) Unicode tables do not assign yet.
    func testCharacterClassesMatchRegexModule() throws {
        let reference = try loadReference()
        var expected = [PreTokenizer.CharacterClass](repeating: .none, count: 0x110000)
        let names: [(String, PreTokenizer.CharacterClass)] = [
            ("letter", .letter), ("number", .number), ("space", .space), ("other", .other),
        ]
        for (name, kind) in names {
            for range in try XCTUnwrap(reference.character_classes[name]) where range.count == 2 {
                for point in range[0]...range[1] { expected[point] = kind }
            }
        }
        var newerOnly = 0
        for point in 0..<0x110000 {
            guard let scalar = Unicode.Scalar(UInt32(point)) else { continue }
            let got = PreTokenizer.characterClass(scalar)
            guard got != expected[point] else { continue }
            if scalar.properties.generalCategory == .unassigned { newerOnly += 1; continue }
            XCTFail("U+\(String(point, radix: 16)): Swift says \(got), regex says \(expected[point])")
        }
        print("TokenizerTests: \(newerOnly) code points unassigned in Swift's Unicode tables are letters/numbers in regex's")
    }

    /// Python 3.11's `str.lower` (Unicode 14) must agree with ours on everything assigned up to Unicode 14.
    func testLowercaseMatchesPython() throws {
        let reference = try loadReference()
        var table: [UInt32: [UInt32]] = [:]
        for row in reference.python_lowercase {
            guard row.count == 2, case .point(let point) = row[0], case .points(let lower) = row[1] else {
                return XCTFail("bad python_lowercase row")
            }
            table[UInt32(point)] = lower.map { UInt32($0) }
        }
        XCTAssertGreaterThan(table.count, 1000)
        for point in UInt32(0)..<0x110000 where point != 0x3A3 {
            guard let scalar = Unicode.Scalar(point), let age = scalar.properties.age, age.major <= 14 else { continue }
            XCTAssertEqual(TextCleaner.lowercased([scalar]).map(\.value), table[point] ?? [point],
                           "U+\(String(point, radix: 16))")
        }
        // Final sigma in context (CPython handle_capital_sigma; expected text from Python 3.11's lower()).
        XCTAssertEqual(TextCleaner.lowercased(Array("ΟΔΟΣ Σ ΑΣ'Σ".unicodeScalars)).map(\.value),
                       scalars("οδος σ ασ'ς"))
    }

    /// The O(n log n) heap merge must give the ids of open_clip's pass loop (used for long words).
    func testHeapMergeEqualsPassMerge() throws {
        let text = try GzipResource.contents(of: try vocabularyURL())
        let encoder = try BytePairEncoder(vocabularyText: text, name: "bpe_simple_vocab_16e6.txt")
        XCTAssertTrue(encoder.mergesAreOrdered)
        let pools: [[UInt8]] = [Array("abcdefghijklmnopqrstuvwxyz".utf8), Array("aabbbe".utf8),
                                Array("!?.,'-".utf8), Array("photobtle".utf8), Array("é中🍾".utf8)]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextRandom() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        for trial in 0..<3000 {
            let pool = pools[trial % pools.count]
            let word = (0..<(1 + nextRandom() % 150)).map { _ in pool[nextRandom() % pool.count] }
            XCTAssertEqual(encoder.encodeWordWithHeap(word), encoder.encodeWordByPasses(word), "trial \(trial)")
        }
    }

    // MARK: - Robustness

    func testTruncationKeepsEndOfText() throws {
        let tokenizer = try CLIPTokenizer.shared()
        let text = String(repeating: "bottle ", count: 500)
        for length in [1, 2, 3, 77] {
            let ids = tokenizer.tokenize(text, contextLength: length)
            XCTAssertEqual(ids.count, length)
            XCTAssertEqual(ids.last, CLIPTokenizer.endOfText)
            if length > 1 { XCTAssertEqual(ids.first, CLIPTokenizer.startOfText) }
        }
    }

    func testConcurrentUseGivesSameIDs() throws {
        let reference = try loadReference()
        let tokenizer = try CLIPTokenizer(vocabularyGzipURL: try vocabularyURL())
        let entries = reference.texts.filter { $0.excluded == nil }
        let results = UnsafeMutableBufferPointer<[Int]>.allocate(capacity: entries.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: entries.count) { index in
            results[index] = tokenizer.tokenize(entries[index].text, contextLength: entries[index].context_length)
        }
        for (index, entry) in entries.enumerated() { XCTAssertEqual(results[index], entry.ids, entry.name) }
    }

    func testCorruptVocabularyThrows() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clipad-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = try Data(contentsOf: try vocabularyURL())
        let cases: [(String, Data)] = [
            ("empty.gz", Data()),
            ("garbage.gz", Data("not a gzip file at all".utf8)),
            ("truncated.gz", good.prefix(good.count / 2)),
            ("flipped.gz", { var data = good; data[data.count / 3] ^= 0xFF; return data }()),
        ]
        for (name, data) in cases {
            let url = directory.appendingPathComponent(name)
            try data.write(to: url)
            XCTAssertThrowsError(try CLIPTokenizer(vocabularyGzipURL: url), name) { error in
                XCTAssertTrue(error is TokenizerError, "\(name): \(error)")
                XCTAssertTrue("\(error)".contains(name), "\(name): message should name the file: \(error)")
            }
        }
        XCTAssertThrowsError(try CLIPTokenizer(vocabularyGzipURL: directory.appendingPathComponent("missing.gz")))

        // Well-formed gzip, malformed contents.
        let short = Array("#version: 0.2\ni n\nt h\n".utf8)
        XCTAssertThrowsError(try CLIPTokenizer(vocabularyText: short, name: "short.txt"))
        let text = try GzipResource.contents(of: try vocabularyURL())
        var badLine = text
        if let firstNewline = badLine.firstIndex(of: 0x0A) { badLine.insert(contentsOf: Array("x y z".utf8), at: firstNewline + 1) }
        XCTAssertThrowsError(try CLIPTokenizer(vocabularyText: badLine, name: "three-fields.txt"))
        XCTAssertNoThrow(try CLIPTokenizer(vocabularyText: text, name: "good.txt"))
    }

    func testHostileTextDoesNotCrash() throws {
        let tokenizer = try CLIPTokenizer.shared()
        let texts = ["&#99999999999999999999999;", "&", "&#", "&#x", String(repeating: "&amp;", count: 2000),
                     "\u{1B}[", "\u{1B}[12;", "<", "'", "\r\r\n\u{85}", String(repeating: "\u{301}", count: 500),
                     String(repeating: "é", count: 3000), "\u{0}\u{FFFF}\u{10FFFF}",
                     String(repeating: "qzxj", count: 50_000)]
        for text in texts {
            let ids = tokenizer.tokenize(text)
            XCTAssertLessThanOrEqual(ids.count, 77)
            XCTAssertTrue(ids.allSatisfy { (0..<CLIPTokenizer.vocabularySize).contains($0) })
        }
        XCTAssertEqual(tokenizer.decode([-1, 1_000_000]), "")
    }

    private func vocabularyURL() throws -> URL {
        try XCTUnwrap(CLIPTokenizer.bundledVocabularyURL(), "bundled vocabulary missing")
    }
}
