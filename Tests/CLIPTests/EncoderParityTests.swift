import Checkpoint
import Foundation
import Tensor
import XCTest
@testable import CLIP

/// Encoders against PyTorch + open_clip references computed from the same random weights
/// (tools/fixtures/make_clip_fixtures.py). Bar: max relative error 1e-4.
final class EncoderParityTests: XCTestCase {
    struct TextIDs: Decodable { let texts: [String]?; let ids: [[Int]] }

    func textIDs(_ model: String) throws -> TextIDs {
        try JSONDecoder().decode(TextIDs.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("\(model)/text_ids.json"))))
    }

    /// Compares image embedding, every block's tokens, the projected tokens, text embedding and every text block.
    func checkEncoders(_ clip: CLIPModel, reference ref: Checkpoint, model: String) throws {
        let images = try ref.tensor("image_input")
        let out = clip.vision.forward(images, outputLayers: Set(1...clip.vision.layers))
        assertParity(out.embedding, try ref.tensor("image_embedding"), "\(model) image_embedding")
        for k in 1...clip.vision.layers {
            assertParity(out.layerTokens[k]!, try ref.tensor("image_tokens_layer\(k)"), "\(model) image_tokens_layer\(k)")
        }
        assertParity(clip.vision.projectTokens(out.finalTokens), try ref.tensor("image_post_tokens"), "\(model) image_post_tokens")

        let ids = try textIDs(model).ids
        var layers: [Int: Tensor] = [:]
        let text = clip.text.forward(ids: ids, outputLayers: Set(1...clip.text.layers)) { layers[$0] = $1 }
        assertParity(text, try ref.tensor("text_embedding"), "\(model) text_embedding")
        for k in 1...clip.text.layers {
            assertParity(layers[k]!, try ref.tensor("text_tokens_layer\(k)"), "\(model) text_tokens_layer\(k)")
        }

        let embeddings = try ref.tensor("text_from_embeddings_input")
        let idRows = try ref.tensor("text_from_embeddings_ids")
        let l = idRows.shape[1]
        let rows = (0..<idRows.shape[0]).map { r in (0..<l).map { Int(idRows[flat: r * l + $0]) } }
        assertParity(clip.text.forward(embeddings: embeddings, ids: rows), try ref.tensor("text_from_embeddings_output"),
                     "\(model) text_from_embeddings_output")
    }

    func testOpenCLIPSafetensorsWithConfigQuickGELU() throws {
        let clip = try CLIPModel.load(path: Fixtures.path("vit16q/open_clip_model.safetensors"))
        XCTAssertEqual(clip.activation, .quickGELU)
        XCTAssertEqual(clip.activationSource, .openCLIPConfig(Fixtures.path("vit16q/open_clip_config.json")))
        let arch = clip.architecture
        XCTAssertEqual([arch.vision.width, arch.vision.layers, arch.vision.patchSize, arch.vision.imageSize], [128, 2, 16, 64])
        XCTAssertEqual([arch.text.width, arch.text.layers, arch.text.contextLength, arch.text.vocabularySize], [64, 2, 77, 49408])
        XCTAssertEqual(arch.embedDim, 64)
        try checkEncoders(clip, reference: try Fixtures.reference("vit16q/reference.safetensors"), model: "vit16q")
    }

    func testTokenizerFeedsTheTextTower() throws {
        let ids = try textIDs("vit16q")
        let tokenizer = try CLIPTokenizer.shared()
        for (text, row) in zip(ids.texts ?? [], ids.ids) {
            XCTAssertEqual(tokenizer.tokenizePadded([text], contextLength: 77)[0].map(Int.init), row, text)
        }
    }

    func testPositionalEmbeddingResizedBilinearly() throws {
        let clip = try CLIPModel.load(path: Fixtures.path("vit16q/open_clip_model.safetensors"))
        let ref = try Fixtures.reference("vit16q/reference.safetensors")
        assertParity(clip.vision.positionalEmbedding(gridHeight: 6, gridWidth: 6), try ref.tensor("positional_embedding_96"),
                     tolerance: 1e-6, "positional_embedding_96")
        let out = clip.vision.forward(try ref.tensor("image_input_96"), outputLayers: Set(1...clip.vision.layers))
        assertParity(out.embedding, try ref.tensor("image_embedding_96"), "image_embedding_96")
        for k in 1...clip.vision.layers {
            assertParity(out.layerTokens[k]!, try ref.tensor("image_tokens_96_layer\(k)"), "image_tokens_96_layer\(k)")
        }
    }

    func testTorchSaveZipWithBFloat16AndGELUOverride() throws {
        let path = Fixtures.path("vit14g/model.pt")
        let guessed = try CLIPModel.load(path: path)
        XCTAssertEqual(guessed.activationSource, .assumedDefault)
        XCTAssertNotNil(guessed.activationSource.notice)
        let clip = try CLIPModel.load(path: path, activation: .gelu)
        XCTAssertEqual(clip.activationSource, .override)
        XCTAssertEqual(clip.architecture.vision.patchSize, 14)
        XCTAssertEqual(clip.architecture.text.contextLength, 16)
        try checkEncoders(clip, reference: try Fixtures.reference("vit14g/reference.safetensors"), model: "vit14g")
    }

    func testTorchScriptArchive() throws {
        let path = Fixtures.path("vit14g/model_torchscript.pt")
        XCTAssertEqual(try CLIPModel.load(path: path).activationSource, .torchScript)
        let clip = try CLIPModel.load(path: path, activation: .gelu)
        try checkEncoders(clip, reference: try Fixtures.reference("vit14g/reference.safetensors"), model: "vit14g")
    }

    func testHuggingFaceLayout() throws {
        let clip = try CLIPModel.load(path: Fixtures.path("vit14g-hf/model.safetensors"))
        XCTAssertEqual(clip.activation, .gelu)
        XCTAssertEqual(clip.activationSource, .huggingFaceConfig(Fixtures.path("vit14g-hf/config.json")))
        try checkEncoders(clip, reference: try Fixtures.reference("vit14g/reference.safetensors"), model: "vit14g")
    }

    func testStrictLoadingNamesTheProblem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-strict-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try Checkpoint.load(path: Fixtures.path("vit16q/open_clip_model.safetensors"))
        var tensors = try source.tensors.mapValues { try $0.toTensor() }

        var missing = tensors
        missing["ln_final.bias"] = nil
        let missingPath = dir.appendingPathComponent("missing.safetensors").path
        try SafetensorsWriter.write(missing, metadata: [:], to: missingPath)
        XCTAssertThrowsError(try CLIPModel.load(path: missingPath, activation: .gelu)) {
            XCTAssertEqual("\($0)", "\(missingPath): missing tensor 'ln_final.bias'")
        }

        tensors["visual.ln_post.weight"] = Tensor(zeros: [7])
        tensors["unexpected.weight"] = Tensor(zeros: [1])
        let badPath = dir.appendingPathComponent("bad.safetensors").path
        try SafetensorsWriter.write(tensors, metadata: [:], to: badPath)
        XCTAssertThrowsError(try CLIPModel.load(path: badPath, activation: .gelu)) {
            XCTAssertEqual("\($0)", "\(badPath): tensor 'visual.ln_post.weight' has shape [7], expected [128]")
        }
    }
}
