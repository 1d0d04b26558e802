import Detection
import Foundation
import XCTest

/// The defect-word options every method spells the same way, parsed into one list.
final class DefectPhrasesTests: XCTestCase {
    func testWordsPhrasesAndFileCombineInOrder() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-phrases-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try "# screws\nthread stripped\n\n  {} with a missing head  \n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try DefectPhrases.combine(words: "crack, hole,,missing part", phrases: ["dent"], file: file.path),
                       ["crack", "hole", "missing part", "dent", "thread stripped", "{} with a missing head"])
        XCTAssertNil(try DefectPhrases.combine(words: nil, phrases: [], file: nil))
    }

    func testEmptyOrUnreadableInputIsOneLine() throws {
        XCTAssertThrowsError(try DefectPhrases.combine(words: " , ", phrases: [], file: nil)) {
            XCTAssertEqual("\($0)", "--defect-words: no defect word given")
        }
        XCTAssertThrowsError(try DefectPhrases.read(file: "/nonexistent/phrases.txt")) {
            XCTAssertEqual("\($0)", "/nonexistent/phrases.txt: cannot read the phrases file (UTF-8 text, one phrase per line): does not exist")
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-phrases-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: empty) }
        try "# nothing\n\n".write(to: empty, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DefectPhrases.read(file: empty.path)) { XCTAssertTrue("\($0)".hasSuffix(": the phrases file has no phrase"), "\($0)") }
    }
}

/// The one phrase rule every method uses.
final class DefectPhraseTemplateTests: XCTestCase {
    func testAWordGoesBeforeTheProductAndAPhraseKeepsItsPlace() throws {
        XCTAssertEqual(try DefectPhrases.template("crack"), "crack {}")
        XCTAssertEqual(try DefectPhrases.template(" missing part "), "missing part {}")
        XCTAssertEqual(try DefectPhrases.template("{} with a dent"), "{} with a dent")
    }

    func testTwoPlaceholdersOrNothingIsAnErrorNamingThePhrase() {
        XCTAssertThrowsError(try DefectPhrases.template("{} on {}")) {
            XCTAssertEqual("\($0)", "--phrase: '{} on {}' holds {} 2 times; at most once (where the product goes)")
        }
        XCTAssertThrowsError(try DefectPhrases.template("  ")) { XCTAssertEqual("\($0)", "--phrase: a defect word or phrase is empty") }
        XCTAssertThrowsError(try DefectPhrases.combine(words: nil, phrases: ["{} {}"], file: nil))
    }
}
