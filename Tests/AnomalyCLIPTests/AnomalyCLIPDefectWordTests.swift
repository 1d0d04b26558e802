import Checkpoint
import CLIP
import Foundation
import Tensor
import TestSupport
import XCTest
@testable import AnomalyCLIP

/// Defect words as extra abnormal prompts on the official tiny fixture.
final class AnomalyCLIPDefectWordTests: XCTestCase {
    static func detector(phrases: [String]) throws -> AnomalyCLIPDetector {
        let model = try CLIPModel.load(path: AnomalyCLIPParityTests.path("tiny_clip.safetensors"), activation: .quickGELU)
        let (prompts, _) = try PromptParameters.load(path: AnomalyCLIPParityTests.path("prompts_official.pth"))
        return try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: AnomalyCLIPParityTests.configuration,
                                       tokenizer: try CLIPTokenizer.shared(), phrases: phrases)
    }

    func testThePhraseDamagedRebuildsTheLearnedAbnormalPrompt() throws {
        // "[ctx_neg] damaged object." IS the learned abnormal prompt: its features must equal the official ones, and the
        // max-combined scores and maps equal the zero-shot ones (the official reference) to the parity bar.
        let d = try Self.detector(phrases: ["damaged"])
        let ref = try Checkpoint.load(path: AnomalyCLIPParityTests.path("reference.safetensors"))
        assertParity(d.phraseTextFeatures!, try ref.tensor("text_features").slice(rows: 1..<2), tolerance: 2e-6, "phrase 'damaged' features")
        let result = d.detect(try ref.tensor("images"))
        assertParity(Tensor(shape: [2], scalars: result.imageScores), try ref.tensor("image_scores"), "image scores")
        assertParity(result.rawMaps, try ref.tensor("anomaly_map_raw"), "raw map")
        XCTAssertEqual(PromptTextEncoder.phrasePromptTexts(["{} with a missing screw"], contextLength: 2), ["X X object with a missing screw."])
    }

    func testWordsCombineByMaximumOverPairsWithTheFixedNormalPrompt() throws {
        let plain = try Self.detector(phrases: [])
        let words = try Self.detector(phrases: ["scratch", "{} with a hole"])
        let images = try Checkpoint.load(path: AnomalyCLIPParityTests.path("reference.safetensors")).tensor("images")
        let base = plain.detect(images), combined = words.detect(images)
        // Independent recomputation of the global score: softmax over (normal, abnormal_j) / 0.07, max over j.
        let global = plain.features(images).global
        for i in 0..<2 {
            let f = global.slice(rows: i..<(i + 1))
            var best = base.imageScores[i]
            for p in 0..<2 {
                let a = words.phraseTextFeatures!.slice(rows: p..<(p + 1)), n = words.textFeatures.slice(rows: 0..<1)
                let ln = f.matmul(n.transposed())[flat: 0] / 0.07, la = f.matmul(a.transposed())[flat: 0] / 0.07
                best = max(best, 1 / (1 + exp(ln - la)))
            }
            XCTAssertEqual(combined.imageScores[i], best, accuracy: 1e-6, "image \(i)")
            XCTAssertGreaterThanOrEqual(combined.imageScores[i], base.imageScores[i])
        }
        // The phrase prompts differ from the learned one (else the test above would prove nothing here).
        XCTAssertNotEqual(words.phraseTextFeatures!.scalars, plain.textFeatures.slice(rows: 1..<2).scalars)
        for (c, b) in zip(combined.rawMaps.scalars, base.rawMaps.scalars) { XCTAssertGreaterThanOrEqual(c, b - 1e-5) }
    }

    func testBadPhrasesAreOneLineErrors() throws {
        XCTAssertThrowsError(try Self.detector(phrases: [" "])) { XCTAssertEqual("\($0)", "AnomalyCLIP: a defect word or phrase is empty") }
        let long = Array(repeating: "very", count: 80).joined(separator: " ")
        XCTAssertThrowsError(try Self.detector(phrases: [long])) { XCTAssertTrue("\($0)".contains("is too long"), "\($0)") }
    }
}
