import Checkpoint
import CLIP
import Foundation
import Tensor
import TestSupport
import XCTest
@testable import AnomalyCLIP

/// AnomalyCLIP inference against references produced by the OFFICIAL code on a tiny random-weight CLIP
/// (tools/fixtures/make_anomalyclip_fixtures.py). Bar: max relative error 1e-4.
final class AnomalyCLIPParityTests: XCTestCase {
    static var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }
    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// The fixture's configuration: 4 vision blocks, DPAM on the last 3, features from blocks 1, 2, 4, depth 3.
    static var configuration: AnomalyCLIPConfiguration {
        var c = AnomalyCLIPConfiguration()
        c.imageSize = 56
        c.featureLayers = [1, 2, 4]
        c.dpamBlocks = 3
        c.deepPromptDepth = 3
        return c
    }

    static func makeDetector() throws -> (AnomalyCLIPDetector, Checkpoint) {
        let model = try CLIPModel.load(path: Self.path("tiny_clip.safetensors"), activation: .quickGELU)
        let (prompts, _) = try PromptParameters.load(path: Self.path("prompts_official.pth"))
        let detector = try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: Self.configuration,
                                               tokenizer: try CLIPTokenizer.shared())
        return (detector, try Checkpoint.load(path: Self.path("reference.safetensors")))
    }


    func testOfficialPromptFileLoads() throws {
        let (prompts, _) = try PromptParameters.load(path: Self.path("prompts_official.pth"))
        let ref = try Checkpoint.load(path: Self.path("reference.safetensors"))
        XCTAssertEqual(prompts.normalContext.shape, [12, 64])
        XCTAssertEqual(prompts.deepPrompts.count, 2)
        assertParity(prompts.normalContext, try ref.tensor("ctx_pos"), tolerance: 0, "ctx_pos")
        assertParity(prompts.abnormalContext, try ref.tensor("ctx_neg"), tolerance: 0, "ctx_neg")
        assertParity(prompts.deepPrompts[1], try ref.tensor("compound_prompts_text_1"), tolerance: 0, "compound_prompts_text_1")
    }

    func testTextFeaturesScoresAndMaps() throws {
        let (detector, ref) = try Self.makeDetector()
        // Tight bar: skipping the half-precision rounding of the deep prompts moves the features by ~1.2e-5.
        assertParity(detector.textFeatures, try ref.tensor("text_features"), tolerance: 2e-6, "text_features")
        // The global feature comes from the last block's original path, which runs for the class token alone.
        assertParity(detector.features(try ref.tensor("images")).global, try ref.tensor("global_features"), "global_features")
        let result = detector.detect(try ref.tensor("images"))
        assertParity(Tensor(shape: [2], scalars: result.imageScores), try ref.tensor("image_scores"), "image_scores")
        for layer in [1, 2, 4] {
            assertParity(result.layerMaps[layer]!, try ref.tensor("anomaly_map_layer\(layer)"), "anomaly_map_layer\(layer)")
        }
        assertParity(result.rawMaps, try ref.tensor("anomaly_map_raw"), "anomaly_map_raw")
        assertParity(result.maps, try ref.tensor("anomaly_map"), "anomaly_map")
    }

    func testOtherInputSizeResizesThePositionalGrid() throws {
        let (detector, ref) = try Self.makeDetector()
        assertParity(detector.model.vision.positionalEmbedding(gridHeight: 5, gridWidth: 5),
                     try ref.tensor("vision_positional_embedding_70"), tolerance: 1e-6, "positional embedding 5x5")
        let result = detector.detect(try ref.tensor("image_input_70"))
        assertParity(Tensor(shape: [1], scalars: result.imageScores), try ref.tensor("image_scores_70"), "image_scores_70")
        assertParity(result.rawMaps, try ref.tensor("anomaly_map_raw_70"), "anomaly_map_raw_70")
        assertParity(result.maps, try ref.tensor("anomaly_map_70"), "anomaly_map_70")
    }

    func testRejectsMismatchedSettings() throws {
        let model = try CLIPModel.load(path: Self.path("tiny_clip.safetensors"), activation: .quickGELU)
        let (prompts, _) = try PromptParameters.load(path: Self.path("prompts_official.pth"))
        var bad = Self.configuration
        bad.featureLayers = [5]
        XCTAssertThrowsError(try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: bad, tokenizer: try CLIPTokenizer.shared())) {
            XCTAssertEqual("\($0)", "AnomalyCLIP: feature layers [5] must be in 1...4")
        }
    }
}
