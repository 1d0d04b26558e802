import AnomalyCLIP
import Checkpoint
import CLIP
import Evaluation
import Foundation
import ImageIO
import XCTest

/// `clipad fit --method anomalyclip` -> `predict --model` on the binary, and its bad-input errors.
final class AnomalyCLIPShotsCLITests: XCTestCase {
    static var folder: URL!
    static var clip: String!
    static var prompts: String!
    static var images: URL!

    override class func setUp() {
        super.setUp()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-shots-cli-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        clip = folder.appendingPathComponent("clip.safetensors").path
        try! SafetensorsWriter.write(CLIPModel.randomWeights(try! CLIPArchitecture.bundled("tiny-demo"), seed: 7), to: clip)
        var config = AnomalyCLIPConfiguration()
        config.imageSize = 64
        config.featureLayers = [3]
        config.dpamBlocks = 2
        config.deepPromptDepth = 2
        prompts = folder.appendingPathComponent("prompts.safetensors").path
        let width = try! CLIPModel.load(path: clip).text.width
        try! PromptParameters.random(width: width, configuration: config, seed: 4).save(path: prompts, configuration: config)
        images = folder.appendingPathComponent("images")
        try! FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let generator = SyntheticDefectImages(size: 64)
        for i in 0..<5 {
            let s = generator.sample(index: i, defect: i < 3 ? .none : .scratch)
            try! ImageEncoder.write(Image(width: 64, height: 64, channels: 3, pixels: s.rgb), to: images.appendingPathComponent("part\(i).png").path)
        }
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: folder)
        super.tearDown()
    }

    func image(_ i: Int) -> String { Self.images.appendingPathComponent("part\(i).png").path }

    func fit(_ extra: [String], output: String) throws -> CLIRunner.Result {
        try CLIRunner.run(["fit", "--method", "anomalyclip", "--clip", Self.clip, "--prompts", Self.prompts,
                           "--shots", image(0), image(1), image(2), "--output", output] + extra)
    }

    func testFitThenPredictWithTheModelRoundTrips() throws {
        let model = Self.folder.appendingPathComponent("shots-model.safetensors").path
        let f = try fit(["--defect-words", "crack, hole", "--bank-layers", "1,3"], output: model)
        XCTAssertEqual(f.status, 0, f.stderr)
        XCTAssertTrue(f.stdout.contains("3 shot(s), bank layers 1,3, 2 defect phrase(s)"), f.stdout)
        // The model file: prompts + bank + statistics + shots + spec, in one file.
        let file = try Checkpoint.load(path: model)
        XCTAssertEqual(file.metadata["shot_bank.layers"], "1,3")
        XCTAssertEqual(file.metadata["shot_bank.shot_count"], "3")
        XCTAssertNotNil(file.tensors["shot_bank.layer3"])
        XCTAssertTrue(file.metadata["detector_spec"]?.contains("\"crack\"") ?? false)

        let out = Self.folder.appendingPathComponent("shots-predict")
        let p = try CLIRunner.run(["predict", "--method", "anomalyclip", "--model", model, "--output", out.path, image(3), image(4)])
        XCTAssertEqual(p.status, 0, p.stderr)
        let run = try String(contentsOf: out.appendingPathComponent("run.json"), encoding: .utf8)
        for expected in ["\"bank_layers\"", "\"crack\"", "part0.png"] { XCTAssertTrue(run.contains(expected), "\(expected) missing in \(run)") }
        let scores = try String(contentsOf: out.appendingPathComponent("scores.jsonl"), encoding: .utf8)
        XCTAssertEqual(scores.split(separator: "\n").count, 2)

        // The same detector straight from --shots (the bank built at load) gives the same scores.
        let direct = Self.folder.appendingPathComponent("shots-direct")
        let d = try CLIRunner.run(["predict", "--method", "anomalyclip", "--clip", Self.clip, "--prompts", Self.prompts,
                                   "--shots", image(0), image(1), image(2), "--bank-layers", "1,3", "--defect-words", "crack,hole",
                                   "--output", direct.path, image(3), image(4)])
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertEqual(try String(contentsOf: direct.appendingPathComponent("scores.jsonl"), encoding: .utf8), scores)
    }

    func testBadInputIsOneLine() throws {
        let out = Self.folder.appendingPathComponent("bad.safetensors").path
        let missing = try CLIRunner.run(["fit", "--method", "anomalyclip", "--clip", Self.clip, "--prompts", Self.prompts,
                                         "--shots", image(0), Self.folder.appendingPathComponent("nope.png").path, "--output", out])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nope.png"), missing.stderr)
        XCTAssertEqual(missing.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, missing.stderr)

        let layer = try fit(["--bank-layers", "2,9"], output: out)
        XCTAssertNotEqual(layer.status, 0)
        XCTAssertTrue(layer.stderr.contains("bank layer 9 must be in 1...3"), layer.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written on error")

        // A model fitted on one backbone, used with another (narrower vision tower): refused, naming the file.
        let model = Self.folder.appendingPathComponent("tiny-model.safetensors").path
        XCTAssertEqual(try fit([], output: model).status, 0)
        let other = Self.folder.appendingPathComponent("other-clip.safetensors").path
        let arch = try JSONDecoder().decode(CLIPArchitecture.self, from: Data("""
            {"embed_dim": 32, "quick_gelu": true,
             "vision_cfg": {"image_size": 64, "layers": 3, "width": 64, "patch_size": 16},
             "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": \(try CLIPModel.load(path: Self.clip).text.width), "heads": 1, "layers": 2}}
            """.utf8))
        try SafetensorsWriter.write(CLIPModel.randomWeights(arch, seed: 9), to: other)
        let r = try CLIRunner.run(["predict", "--method", "anomalyclip", "--model", model, "--clip", other,
                                   "--output", Self.folder.appendingPathComponent("other-out").path, image(3)])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("tiny-model.safetensors") && r.stderr.contains("wide"), r.stderr)

        let one = try CLIRunner.run(["fit", "--method", "anomalyclip", "--clip", Self.clip, "--prompts", Self.prompts,
                                     "--shots", image(0), "--output", out])
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.stderr.contains("needs at least 2 shots"), one.stderr)
    }
}
