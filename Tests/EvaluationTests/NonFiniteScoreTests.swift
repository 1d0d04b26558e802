import Foundation
import Tensor
import XCTest
@testable import Evaluation

/// Issue 13: a NaN or infinite score never reaches scores.jsonl, and maps can be checked the same way.
final class NonFiniteScoreTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nonfinite-\(UUID().uuidString)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private var scoresFile: String { directory.appendingPathComponent("scores.jsonl").path }

    func testAppendThrowsAndRecordsNothing() throws {
        let writer = try PredictionWriter(directory: directory.path, mapFormat: .none)
        try writer.append(image: "a.png", score: 0.25)
        XCTAssertThrowsError(try writer.append(image: "b.png", score: .nan)) {
            XCTAssertEqual("\($0)", "b.png: anomaly score is nan, expected a finite number (model weights or input produce NaN/Inf)")
        }
        try writer.finish()
        XCTAssertEqual(try String(contentsOfFile: scoresFile, encoding: .utf8), "{\"image\": \"a.png\", \"score\": 0.25}\n")
    }

    func testRecordOfANonFiniteScoreMakesFinishThrowWithoutWriting() throws {
        let writer = try PredictionWriter(directory: directory.path, mapFormat: .none)
        writer.record(image: "a.png", score: 0.5)
        writer.record(image: "b.png", score: .infinity)
        writer.record(image: "c.png", score: -.nan)
        XCTAssertEqual(writer.rejected, NonFiniteValueError(image: "b.png", what: "score", value: .infinity, index: nil))
        XCTAssertThrowsError(try writer.finish()) { XCTAssertTrue("\($0)".hasPrefix("b.png: anomaly score is inf"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scoresFile))
    }

    func testMapChecks() throws {
        XCTAssertNoThrow(try NonFiniteValues.check(score: 1, map: Tensor(zeros: [2, 2]), image: "ok.png"))
        XCTAssertThrowsError(try NonFiniteValues.check(map: [0, 1, .nan, 2], image: "m.png")) {
            XCTAssertEqual($0 as? NonFiniteValueError, NonFiniteValueError(image: "m.png", what: "map", value: .nan, index: 2))
        }
        let writer = try PredictionWriter(directory: directory.path, mapFormat: .npy)
        XCTAssertThrowsError(try writer.writeMap([0, .infinity], height: 1, width: 2, stem: "x"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("x.npy").path))
    }
}
