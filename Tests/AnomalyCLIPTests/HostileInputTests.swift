import Checkpoint
import CLIP
import Foundation
import Tensor
import XCTest
@testable import AnomalyCLIP

/// Issue 13 reproducers for AnomalyCLIP: prompts that do not fit the text tower, damaged prompt files and
/// metadata, image sizes below a patch, and a feature cache of the wrong shapes are thrown errors.
final class HostileInputTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("anomalyclip-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    static let model: CLIPModel = { (try? CLIPModel.random(CLIPArchitecture.bundled("tiny-demo"), seed: 3))! }()

    static var config: AnomalyCLIPConfiguration {
        var c = AnomalyCLIPConfiguration()
        c.imageSize = 64
        c.featureLayers = [3]
        c.dpamBlocks = 2
        c.deepPromptDepth = 2
        return c
    }

    private func detector(_ c: AnomalyCLIPConfiguration, prompts: PromptParameters? = nil) throws -> AnomalyCLIPDetector {
        try AnomalyCLIPDetector(model: Self.model, prompts: prompts ?? .random(width: 64, configuration: c, seed: 1),
                                configuration: c, tokenizer: try CLIPTokenizer.shared())
    }

    private func assertConfigurationError(_ expected: String, _ body: () throws -> Any, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) {
            guard case AnomalyCLIPError.badConfiguration(let reason) = $0 else { return XCTFail("\($0)", line: line) }
            XCTAssertTrue(reason.contains(expected), reason, line: line)
        }
    }

    func testValidSettingsBuildADetector() throws {
        XCTAssertEqual(try detector(Self.config).textFeatures.shape, [2, 64])
    }

    // MARK: - Prompts beyond the 77-token context

    func testContextAndDeepPromptTokensBeyondTheContext() {
        var c = Self.config
        c.contextLength = 100
        assertConfigurationError("field 'n_ctx' is 100, expected 1...77") { try self.detector(c) }
        c.contextLength = 74  // 74 placeholders + "damaged object." + SOT/EOT = 79 tokens
        assertConfigurationError("prompts with 74 context vectors need more than 77 tokens") { try self.detector(c) }
        c = Self.config
        c.deepPromptTokens = 100
        assertConfigurationError("field 't_n_ctx' is 100, expected 0...77") { try self.detector(c) }
        // deep prompts longer than the configuration said: rows past the encoded sequence
        var prompts = PromptParameters.random(width: 64, configuration: Self.config, seed: 1)
        prompts.deepPrompts = [Tensor(zeros: [60, 64])]
        assertConfigurationError("deep prompt 0 has shape [60, 64], expected [t, 64] with t at most") {
            try self.detector(Self.config, prompts: prompts)
        }
    }

    func testTemperatureAndSigmaAreChecked() {
        for t: Float in [0, -1, .nan, .infinity] {
            var c = Self.config
            c.temperature = t
            assertConfigurationError("field 'temperature' is \(t)") { try self.detector(c) }
        }
        for s in [-1.0, 1e9, .nan] {
            var c = Self.config
            c.sigma = s
            assertConfigurationError("field 'sigma' is \(s)") { try self.detector(c) }
        }
    }

    // MARK: - Image sizes

    func testImageSizesBelowAPatchOrAbsurd() throws {
        let tokenizer = try CLIPTokenizer.shared()
        for size in [5, 13, 15] {  // tiny-demo has 16-pixel patches
            var c = Self.config
            c.imageSize = size
            assertConfigurationError("image size \(size) must be in 16...4096") {
                try AnomalyCLIPTrainer(model: Self.model, configuration: c, options: .init(),
                                       cacheDirectory: self.directory.appendingPathComponent("cache").path, tokenizer: tokenizer)
            }
            assertConfigurationError("image size \(size) must be in 16...4096") { try self.detector(c) }
        }
        for size in [-56, 0, 3000 * 3, 200_000, 4_611_686_018_427_387_904] {
            var c = Self.config
            c.imageSize = size
            assertConfigurationError("field 'image_size' is \(size)") { try self.detector(c) }
        }
        let d = try detector(Self.config)
        XCTAssertThrowsError(try d.validate(images: Tensor(zeros: [1, 3, 8, 8])))
    }

    // MARK: - Prompt files

    private func promptFile(_ tensors: [String: Tensor], configuration json: String?) throws -> String {
        let path = directory.appendingPathComponent("prompts-\(UUID().uuidString).safetensors").path
        try SafetensorsWriter.write(tensors, metadata: json.map { ["method": "anomalyclip", "configuration": $0] } ?? [:], to: path)
        return path
    }

    private var goodTensors: [String: Tensor] {
        PromptParameters.random(width: 64, configuration: Self.config, seed: 1).namedTensors
    }

    func testOfficialContextShapeWithTwoClasses() throws {
        var t = goodTensors
        t["ctx_pos"] = Tensor(zeros: [2, 1, 12, 64])
        t["ctx_neg"] = Tensor(zeros: [2, 1, 12, 64])
        let path = try promptFile(t, configuration: nil)
        XCTAssertThrowsError(try PromptParameters.load(path: path)) {
            guard case AnomalyCLIPError.badPromptFile(let file, let reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(file, path)
            XCTAssertEqual(reason, "tensor 'ctx_pos' has shape [2, 1, 12, 64], expected [1, 1, n_ctx, D]")
        }
        t["ctx_pos"] = Tensor(zeros: [1, 1, 12, 64])
        t["ctx_neg"] = Tensor(zeros: [1, 1, 12, 64])
        XCTAssertEqual(try PromptParameters.load(path: try promptFile(t, configuration: nil)).0.normalContext.shape, [12, 64])
    }

    func testPromptFileMetadataIsValidatedOnLoad() throws {
        let good = String(data: try JSONEncoder().encode(Self.config), encoding: .utf8)!
        XCTAssertNoThrow(try PromptParameters.load(path: try promptFile(goodTensors, configuration: good)))
        let cases: [(String, String, String)] = [
            ("\"sigma\":4", "\"sigma\":-1", "field 'sigma' is -1.0"),
            ("\"sigma\":4", "\"sigma\":1000000000", "field 'sigma' is 1000000000.0"),
            ("\"image_size\":64", "\"image_size\":200000", "field 'image_size' is 200000"),
            ("\"image_size\":64", "\"image_size\":-56", "field 'image_size' is -56"),
            ("\"temperature\":0.07", "\"temperature\":0", "field 'temperature' is 0.0"),
            ("\"temperature\":0.07", "\"temperature\":1e999", "not a valid AnomalyCLIP configuration"),
        ]
        for (from, to, message) in cases {
            let json = good.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(json, good, "fixture JSON has no \(from): \(good)")
            let path = try promptFile(goodTensors, configuration: json)
            XCTAssertThrowsError(try PromptParameters.load(path: path)) {
                guard case AnomalyCLIPError.badPromptFile(let file, let reason) = $0 else { return XCTFail("\($0)") }
                XCTAssertEqual(file, path)
                XCTAssertTrue(reason.contains(message), "\(reason) lacks \(message)")
                XCTAssertTrue(reason.hasPrefix("metadata 'configuration'"), reason)
            }
        }
    }

    // MARK: - Feature cache

    func testFeatureCacheWithWrongShapesIsAnErrorOnRead() throws {
        let trainer = try AnomalyCLIPTrainer(model: Self.model, configuration: Self.config, options: .init(),
                                             cacheDirectory: directory.appendingPathComponent("cache").path,
                                             tokenizer: try CLIPTokenizer.shared())
        XCTAssertEqual(trainer.cache.expectedShapes, .init(embedding: 64, patchTokens: 16, layers: [3], maskSide: 64))
        let image = directory.appendingPathComponent("a.png").path
        FileManager.default.createFile(atPath: image, contents: Data([1, 2, 3]))
        let good = FeatureCache.Entry(global: Tensor(zeros: [64]), patches: [3: Tensor(zeros: [16, 64])], mask: Tensor(zeros: [64, 64]))
        try trainer.cache.store(good, imagePath: image)
        XCTAssertNotNil(try trainer.cache.load(imagePath: image))
        let bad: [(FeatureCache.Entry, String)] = [
            (.init(global: Tensor(zeros: [3]), patches: good.patches, mask: good.mask), "tensor 'global' has shape [3], expected [64]"),
            (.init(global: good.global, patches: [3: Tensor(zeros: [15, 64])], mask: good.mask), "tensor 'patches.3' has shape [15, 64], expected [16, 64]"),
            (.init(global: good.global, patches: [:], mask: good.mask), "tensor 'patches.3' has shape (missing), expected [16, 64]"),
            (.init(global: good.global, patches: good.patches, mask: Tensor(zeros: [8, 8])), "tensor 'mask' has shape [8, 8], expected [64, 64]"),
        ]
        for (entry, message) in bad {
            try trainer.cache.store(entry, imagePath: image)
            XCTAssertThrowsError(try trainer.cache.load(imagePath: image)) {
                XCTAssertEqual("\($0)", "\(trainer.cache.file(for: image)): \(message); delete the cache folder")
            }
            XCTAssertThrowsError(try trainer.makeBatch([.init(imagePath: image, maskPath: nil, label: false)]))
        }
    }
}
