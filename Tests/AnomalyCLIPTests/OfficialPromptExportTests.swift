import Checkpoint
import CLIP
import Foundation
import Tensor
import XCTest
@testable import AnomalyCLIP

/// `exportOfficial` re-creates the official prompt file: the prompts read from the official fixture, exported
/// with the fixture's tiny CLIP, must give back the official file key for key (projections aside).
final class OfficialPromptExportTests: XCTestCase {
    func testExportMatchesTheOfficialFile() throws {
        let officialPath = AnomalyCLIPParityTests.path("prompts_official.pth")
        let model = try CLIPModel.load(path: AnomalyCLIPParityTests.path("tiny_clip.safetensors"), activation: .quickGELU)
        let (prompts, _) = try PromptParameters.load(path: officialPath)
        var configuration = AnomalyCLIPParityTests.configuration
        configuration.contextLength = prompts.contextLength
        let encoder = PromptTextEncoder(model: model, configuration: configuration, tokenizer: try CLIPTokenizer.shared())

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let exportPath = dir.appendingPathComponent("prompts.pth").path
        try prompts.exportOfficial(to: exportPath, encoder: encoder)

        let official = try Checkpoint.load(path: officialPath)
        let exported = try Checkpoint.load(path: exportPath)
        XCTAssertEqual(exported.format, .torchZip)
        XCTAssertEqual(exported.names, official.names, "same key set")
        XCTAssertEqual(official.names.count, 14)

        // the key set and shapes the official code produced (reference.json)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: AnomalyCLIPParityTests.path("reference.json"))))
        let keys = try XCTUnwrap((json as? [String: Any])?["prompts_official_pth_keys"] as? [String: [Int]])
        XCTAssertEqual(Set(exported.names), Set(keys.keys.map { "prompt_learner." + $0 }))
        for (key, shape) in keys { XCTAssertEqual(try exported.entry("prompt_learner." + key).shape, shape, key) }

        for name in official.names {
            let want = try official.entry(name), got = try exported.entry(name)
            XCTAssertEqual(got.dtype, want.dtype, name)
            XCTAssertEqual(got.shape, want.shape, name)
            if !want.dtype.isFloatingPoint {
                XCTAssertEqual(try got.int64Values(), try want.int64Values(), name)
            } else if name.contains("compound_prompt_projections") {
                XCTAssertTrue(try got.toTensor().scalars.allSatisfy { $0 == 0 }, "\(name): written as zeros")
                XCTAssertTrue(try want.toTensor().scalars.contains { $0 != 0 }, "\(name): the official file's are not zero")
            } else {
                XCTAssertEqual(try got.toTensor().scalars.map(\.bitPattern), try want.toTensor().scalars.map(\.bitPattern), name)
            }
        }
        XCTAssertEqual(try exported.entry("prompt_learner.tokenized_prompts_pos").dtype, .int32)

        // and the export loads back as the same prompts
        let (again, _) = try PromptParameters.load(path: exportPath)
        XCTAssertEqual(again.normalContext.scalars, prompts.normalContext.scalars)
        XCTAssertEqual(again.abnormalContext.scalars, prompts.abnormalContext.scalars)
        XCTAssertEqual(again.deepPrompts.map(\.scalars), prompts.deepPrompts.map(\.scalars))
    }

    func testMismatchedWidthIsRefused() throws {
        let model = try CLIPModel.load(path: AnomalyCLIPParityTests.path("tiny_clip.safetensors"), activation: .quickGELU)
        var configuration = AnomalyCLIPParityTests.configuration
        configuration.contextLength = 4
        let encoder = PromptTextEncoder(model: model, configuration: configuration, tokenizer: try CLIPTokenizer.shared())
        let prompts = PromptParameters(normalContext: Tensor(zeros: [4, 32]), abnormalContext: Tensor(zeros: [4, 32]), deepPrompts: [])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-export-\(UUID().uuidString).pth").path
        XCTAssertThrowsError(try prompts.exportOfficial(to: path, encoder: encoder)) {
            XCTAssertTrue("\($0)".contains("width 32"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
