import Checkpoint
import CLIP
import Foundation
import ImageIO
import Tensor
import TestSupport
import XCTest
@testable import WinCLIP

/// WinCLIP / WinCLIP+ against references produced by anomalib's own WinClipModel on a tiny random-weight CLIP with
/// ViT-B-16-plus-240's 15x15 grid (tools/fixtures/make_winclip_fixtures.py). Bar: max relative error 1e-4.
final class WinCLIPParityTests: XCTestCase {
    static var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }
    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    static func load() throws -> (CLIPModel, Checkpoint) {
        (try CLIPModel.load(path: path("tiny_clip/open_clip_model.safetensors")), try Checkpoint.load(path: path("reference.safetensors")))
    }

    static func pixels(_ range: Range<Int>) throws -> Tensor {
        ImagePreprocessor(size: 240, resize: .square).batch(try range.map { try ImageDecoder.decodeRGB(path: path("images/image\($0).png")) })
    }


    func testPromptEnsembleAndWindows() throws {
        let (normal, anomalous) = WinCLIPPrompts.ensemble(className: "bottle")
        XCTAssertEqual(normal.count, 147)
        XCTAssertEqual(anomalous.count, 84)
        XCTAssertEqual(normal[0], "a cropped photo of the bottle.")
        XCTAssertEqual(anomalous.last, "a photo of a bottle with damage for anomaly detection.")
        let (_, ref) = try Self.load()
        for k in [2, 3] {
            let masks = try WindowMasks(grid: 15, kernel: k)
            let want = try ref.tensor("masks_\(k)")   // [k*k, windows]
            XCTAssertEqual(want.shape, [k * k, masks.windows.count])
            for (w, window) in masks.windows.enumerated() {
                XCTAssertEqual(window, (0..<(k * k)).map { Int(want[flat: $0 * masks.windows.count + w]) }, "scale \(k) window \(w)")
            }
        }
        XCTAssertThrowsError(try WindowMasks(grid: 2, kernel: 3))
    }

    func testHarmonicAggregationWithAZeroScore() throws {
        let (_, ref) = try Self.load()
        let got = try WindowMasks(grid: 3, kernel: 2).harmonicAggregation(try ref.tensor("harmonic_input").scalars)
        assertParity(Tensor(shape: [1, 3, 3], scalars: got), try ref.tensor("harmonic_output"), "harmonic aggregation")
        XCTAssertEqual(got[8], 0)   // only the zero-score window covers the corner
    }

    func testEmbeddingsZeroShotAndFewShot() throws {
        let (model, ref) = try Self.load()
        XCTAssertEqual(model.activation, .gelu)
        var detector = try WinCLIPDetector(model: model, className: "bottle", tokenizer: try CLIPTokenizer.shared())
        assertParity(detector.textEmbeddings, try ref.tensor("text_embeddings"), "text embeddings")
        let tests = try Self.pixels(2..<4)
        let e = WinCLIPImageEmbeddings.compute(tests, vision: model.vision, scales: detector.scales)
        assertParity(e.image, try ref.tensor("image_embeddings"), "image embeddings")
        assertParity(e.windows[0], try ref.tensor("window_embeddings_2"), "2x2 window embeddings")
        assertParity(e.windows[1], try ref.tensor("window_embeddings_3"), "3x3 window embeddings")
        assertParity(e.patches, try ref.tensor("patch_embeddings"), "patch embeddings")

        let zero = detector.detect(embeddings: e, outputSize: 240)
        assertParity(zero.zeroShotMaps, try ref.tensor("zero_shot_grid"), "zero-shot grid")
        assertParity(Tensor(shape: [2], scalars: zero.imageScores), try ref.tensor("zero_shot_image_scores"), "zero-shot image scores")
        assertParity(zero.maps, try ref.tensor("zero_shot_maps"), "zero-shot maps")

        try detector.setReferences(try Self.pixels(0..<2))
        let few = try detector.detect(tests, outputSize: 240)
        assertParity(few.fewShotMaps!, try ref.tensor("few_shot_grid"), "few-shot grid")
        assertParity(Tensor(shape: [2], scalars: few.imageScores), try ref.tensor("few_shot_image_scores"), "few-shot image scores")
        assertParity(few.maps, try ref.tensor("few_shot_maps"), "few-shot maps")
    }

    func testWrongImageSizeIsAnError() throws {
        let (model, _) = try Self.load()
        let detector = try WinCLIPDetector(model: model, className: "bottle", tokenizer: try CLIPTokenizer.shared())
        XCTAssertThrowsError(try detector.detect(Tensor(zeros: [1, 3, 224, 224]), outputSize: 224)) {
            XCTAssertTrue("\($0)".contains("images must be 240x240"), "\($0)")
        }
    }
}
