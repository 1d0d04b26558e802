import Checkpoint
import Foundation
import ImageIO
import Tensor
import XCTest
@testable import CLIP

/// Issue 13 reproducers for the CLIP target: damaged checkpoints are load errors with "got [...], expected [...]",
/// input the towers cannot take is a thrown `CLIPInputError`, never a crash.
final class HostileInputTests: XCTestCase {
    static let arch: CLIPArchitecture = {
        // tiny-demo: vision 128 wide (patch 16, 4x4 grid), text 64 wide
        (try? CLIPArchitecture.bundled("tiny-demo"))!
    }()

    private func load(_ edit: (inout [String: Tensor]) -> Void) throws -> CLIPModel {
        var t = CLIPModel.randomWeights(Self.arch, seed: 1)
        edit(&t)
        return try CLIPModel(weights: WeightSource(file: "damaged.safetensors", tensors: t), activation: .quickGELU,
                             activationSource: .override)
    }

    private func assertWrongShape(_ key: String, got: [Int], expected: [Int], _ edit: (inout [String: Tensor]) -> Void,
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(edit), file: file, line: line) { error in
            guard case let CLIPLoadError.wrongShape(f, k, g, e) = error else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual([f, k], ["damaged.safetensors", key], file: file, line: line)
            XCTAssertEqual(g, got, file: file, line: line)
            XCTAssertEqual(e, expected, file: file, line: line)
        }
    }

    func testUndamagedWeightsLoad() throws {
        let model = try load { _ in }
        XCTAssertEqual(model.vision.patchSize, 16)
        XCTAssertEqual(model.text.contextLength, 77)
    }

    // MARK: - Positional embeddings

    func testTextPositionalEmbeddingWithTooFewRows() throws {
        assertWrongShape("positional_embedding", got: [0, 64], expected: [2, 64]) { $0["positional_embedding"] = Tensor(zeros: [0, 64]) }
        // 3 rows load (start, one token, end) but a longer text is an input error, not a read past the table
        let model = try load { $0["positional_embedding"] = Tensor(zeros: [3, 64]) }
        XCTAssertThrowsError(try model.encodeText(validating: [[49406, 320, 321, 322, 49407]])) {
            XCTAssertEqual($0 as? CLIPInputError, .textLength(length: 5, text: 0, contextLength: 3))
        }
        XCTAssertEqual(try model.encodeText(validating: [[49406, 320, 49407]]).shape, [1, 64])
    }

    func testVisionPositionalEmbeddingWithTooFewRows() {
        for rows in [0, 3] {
            assertWrongShape("visual.positional_embedding", got: [rows, 128], expected: [2, 128]) {
                $0["visual.positional_embedding"] = Tensor(zeros: [rows, 128])
            }
        }
    }

    func testPatchSizeZero() {
        XCTAssertThrowsError(try load { $0["visual.conv1.weight"] = Tensor(zeros: [128, 3, 0, 0]) }) {
            XCTAssertEqual("\($0)", "damaged.safetensors: tensor 'visual.conv1.weight' has shape [128, 3, 0, 0]: a patch size of 0 (expected [128, 3, p, p] with p >= 1)")
        }
    }

    // MARK: - Block shapes

    func testWrongBiasAndNormLengths() {
        let v = "visual.transformer.resblocks.0"
        assertWrongShape("\(v).attn.in_proj_bias", got: [383], expected: [384]) { $0["\(v).attn.in_proj_bias"] = Tensor(zeros: [383]) }
        assertWrongShape("\(v).ln_2.weight", got: [127], expected: [128]) { $0["\(v).ln_2.weight"] = Tensor(zeros: [127]) }
        assertWrongShape("\(v).mlp.c_fc.bias", got: [5], expected: [512]) { $0["\(v).mlp.c_fc.bias"] = Tensor(zeros: [5]) }
        assertWrongShape("\(v).attn.out_proj.bias", got: [1, 128], expected: [128]) { $0["\(v).attn.out_proj.bias"] = Tensor(zeros: [1, 128]) }
        assertWrongShape("transformer.resblocks.1.ln_1.bias", got: [], expected: [64]) { $0["transformer.resblocks.1.ln_1.bias"] = Tensor(zeros: []) }
    }

    func testNarrowBlockInAWideTower() {
        // every tensor of text block 1 replaced by a consistent 32-wide block
        assertWrongShape("transformer.resblocks.1.ln_1.weight", got: [32], expected: [64]) { t in
            var narrow = Self.arch
            narrow.text.width = 32
            let small = CLIPModel.randomWeights(narrow, seed: 2)
            for (k, v) in small where k.hasPrefix("transformer.resblocks.1.") { t[k] = v }
        }
    }

    func testHeadsThatDoNotDivideTheWidth() {
        var odd = Self.arch
        odd.text.width = 200  // 3 heads of 64: 8 columns left over
        XCTAssertThrowsError(try CLIPModel.random(odd, seed: 1)) {
            XCTAssertEqual("\($0)", "random(seed 1): transformer.resblocks.0: width 200 is not divisible into 3 attention heads")
        }
    }

    func testNonFiniteLogitScale() {
        for bad: Float in [.nan, .infinity] {
            XCTAssertThrowsError(try load { $0["logit_scale"] = Tensor(shape: [], scalars: [bad]) }) {
                XCTAssertTrue("\($0)".contains("'logit_scale' is \(bad)"), "\($0)")
            }
        }
        assertWrongShape("logit_scale", got: [2], expected: []) { $0["logit_scale"] = Tensor(zeros: [2]) }
    }

    // MARK: - Vocabulary

    func testTokenIDsBeyondASmallVocabulary() throws {
        // The repository fixture's text tower has 1000 ids; "hi" tokenizes to ids far above that.
        let model = try CLIPModel.load(path: Fixtures.path("vit14g-hf/model.safetensors"))
        XCTAssertEqual(model.text.vocabularySize, 1000)
        let ids = try CLIPTokenizer.shared().tokenizePadded(["hi"], contextLength: model.text.contextLength).map { $0.map(Int.init) }
        XCTAssertThrowsError(try model.encodeText(validating: ids)) {
            XCTAssertEqual($0 as? CLIPInputError, .tokenOutOfVocabulary(id: 49406, text: 0, position: 0, vocabularySize: 1000))
        }
        XCTAssertEqual(try model.encodeText(validating: [[0, 5, 999]]).shape, [1, model.text.outputDim])
        XCTAssertThrowsError(try model.text.validate(ids: [[-1]]))
        XCTAssertThrowsError(try model.text.validate(ids: [[]]))
    }

    // MARK: - Image sizes

    func testImageSidesOutsideTheTowerRange() throws {
        let model = try load { _ in }
        for side in [0, 5, 13, 15, 4097, 4_611_686_018_427_387_904] {
            XCTAssertThrowsError(try model.vision.validate(imageShape: [1, 3, side, side])) {
                XCTAssertEqual($0 as? CLIPInputError, .imageSide(side: side, allowed: 16...4096, patchSize: 16))
            }
        }
        XCTAssertThrowsError(try model.vision.validate(imageShape: [3, 64, 64])) {
            XCTAssertEqual($0 as? CLIPInputError, .imageShape(got: [3, 64, 64]))
        }
        // in range but far beyond memory: 100000 images of 4096²
        XCTAssertThrowsError(try model.vision.validate(imageShape: [100_000, 3, 4096, 4096])) {
            XCTAssertTrue($0 is MemoryBudgetError, "\($0)")
        }
        XCTAssertEqual(try model.encodeImage(validating: Tensor(zeros: [1, 3, 64, 64])).shape, [1, 64])
    }

    func testPreprocessorSizes() throws {
        let image = Image(width: 8, height: 8, channels: 3)
        for size in [0, -56, 5000, 4_611_686_018_427_387_904] {
            for resize in ImagePreprocessor.Resize.allCases {
                XCTAssertThrowsError(try ImagePreprocessor(size: size, resize: resize).preprocess(image)) {
                    guard case CLIPInputError.imageSide(size, _, _) = $0 else { return XCTFail("\($0)") }
                }
            }
        }
        XCTAssertThrowsError(try ImagePreprocessor(size: 13, resize: .square).validate(patchSize: 14))
        XCTAssertEqual(try ImagePreprocessor(size: 16, resize: .square).preprocess(image).shape, [3, 16, 16])
        var p = ImagePreprocessor(size: 16, resize: .square)
        p.std = [1, 0, 1]
        XCTAssertThrowsError(try p.preprocess(image))
    }

    func testShortestSideResizeOfAStripIsCapped() throws {
        // a 1x29999 PNG is 138 bytes; its shortest-side resize to 224 would be 224x6719776 (4.5 GB, more in passes)
        let strip = Image(width: 1, height: 29999, channels: 3)
        XCTAssertThrowsError(try ImagePreprocessor(size: 224, resize: .shortestSideCenterCrop).preprocess(strip)) {
            XCTAssertEqual($0 as? ImageIOError, .badSize(what: "shortest-side resize of a 1x29999 image to 224", width: 224,
                                                         height: 6_719_776, allowed: 1...16384))
        }
        // squashing the same strip to a square is fine
        XCTAssertEqual(try ImagePreprocessor(size: 32, resize: .square).preprocess(strip).shape, [3, 32, 32])
    }
}
