import CLIP
import Evaluation
import Foundation
import ImageIO
import Tensor
import XCTest
@testable import AnomalyCLIP

/// End-to-end training on synthetic defect images: features cached, loss goes down, checkpoints resume,
/// and the trained prompts segment held-out defects better than chance.
final class AnomalyCLIPTrainingTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-train-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Writes synthetic samples as PNG image + mask files.
    func writeExamples(_ indices: Range<Int>) throws -> [AnomalyCLIPTrainer.Example] {
        let generator = SyntheticDefectImages(size: 96)
        let kinds: [SyntheticDefectImages.Defect] = [.none, .stain, .none, .hole, .none, .scratch, .none, .stain]
        return try indices.map { i in
            let defect = kinds[i % kinds.count]
            let sample = generator.sample(index: i, defect: defect)
            let image = directory.appendingPathComponent("\(i).png").path
            try ImageEncoder.write(Image(width: 96, height: 96, channels: 3, pixels: sample.rgb), to: image)
            var mask: String? = nil
            if defect != .none {
                mask = directory.appendingPathComponent("\(i)_mask.png").path
                try ImageEncoder.write(Image(width: 96, height: 96, channels: 1, pixels: sample.mask), to: mask!)
            }
            return AnomalyCLIPTrainer.Example(imagePath: image, maskPath: mask, label: defect != .none)
        }
    }

    func testTrainingLowersLossResumesAndBeatsChanceOnHeldOutImages() throws {
        let model = try CLIPModel.random(CLIPArchitecture.bundled("tiny-demo"), seed: 3)
        var config = AnomalyCLIPConfiguration()
        config.imageSize = 96
        config.featureLayers = [3]
        config.dpamBlocks = 2
        config.deepPromptDepth = 2
        var options = AnomalyCLIPTrainer.Options()
        options.epochs = 6
        options.learningRate = 1e-2
        let tokenizer = try CLIPTokenizer.shared()
        let trainer = try AnomalyCLIPTrainer(model: model, configuration: config, options: options,
                                             cacheDirectory: directory.appendingPathComponent("cache").path, tokenizer: tokenizer)
        let train = try writeExamples(0..<16), heldOut = try writeExamples(100..<108)
        let initial = PromptParameters.random(width: model.text.width, configuration: config, seed: 5)
        let checkpoint = directory.appendingPathComponent("prompts.safetensors").path

        var epochLosses: [Float] = []
        let trained = try trainer.train(train, initial: initial, checkpointPath: checkpoint, resume: false) { event in
            if case let .epochFinished(_, loss, _) = event { epochLosses.append(loss) }
        }
        XCTAssertEqual(epochLosses.count, 6)
        XCTAssertLessThan(epochLosses.last!, epochLosses.first! * 0.9, "loss per epoch: \(epochLosses)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("cache").path).count, 16)

        // Resuming a finished run trains nothing more and returns the same prompts.
        var resumedSteps = 0
        let resumed = try trainer.train(train, initial: initial, checkpointPath: checkpoint, resume: true) { event in
            if case .step = event { resumedSteps += 1 }
        }
        XCTAssertEqual(resumedSteps, 0)
        XCTAssertEqual(resumed.normalContext.scalars, trained.normalContext.scalars)

        // Held-out pixel AUROC: trained prompts above chance and above the untrained ones.
        func pixelAUROC(_ prompts: PromptParameters) throws -> Double {
            let detector = try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: config, tokenizer: tokenizer)
            let samples = try heldOut.map { e -> PixelSample in
                let (image, mask) = try trainer.load(e)
                let map = detector.detect(image.reshaped([1, 3, 96, 96])).maps[0]
                return try PixelSample(width: 96, height: 96, scores: map.scalars, mask: mask.scalars.map { $0 > 0 ? 255 : 0 })
            }
            return try PixelMetrics.compute(samples, proMode: nil).auroc
        }
        let before = try pixelAUROC(initial), after = try pixelAUROC(trained)
        XCTAssertGreaterThan(after, 0.6, "held-out pixel AUROC after training \(after) (before \(before))")
        XCTAssertGreaterThan(after, before, "held-out pixel AUROC after training \(after) (before \(before))")
        print("synthetic training: epoch losses \(epochLosses), held-out pixel AUROC \(before) -> \(after)")
    }
}
