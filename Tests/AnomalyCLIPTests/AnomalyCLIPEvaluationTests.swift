import CLIP
import Evaluation
import Foundation
import ImageIO
import XCTest
@testable import AnomalyCLIP

/// The `clipad eval` flow end to end: a tiny random CLIP + random prompts over a synthetic folder dataset.
final class AnomalyCLIPEvaluationTests: XCTestCase {
    func testEvaluationRunOnSyntheticFolderDataset() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipad-eval-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let root = (dir as NSString).appendingPathComponent("tiles"), out = (dir as NSString).appendingPathComponent("out")

        // Dataset: 3 normal, 3 defective images (48 px) with masks, in the folder layout.
        let generator = SyntheticDefectImages(size: 48)
        let defects: [SyntheticDefectImages.Defect] = [.none, .none, .none, .scratch, .stain, .hole]
        for sub in ["normal", "abnormal", "masks"] {
            try FileManager.default.createDirectory(atPath: (root as NSString).appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        for (i, d) in defects.enumerated() {
            let s = generator.sample(index: i, defect: d)
            let name = "\(i).png"
            try ImageEncoder.write(Image(width: 48, height: 48, channels: 3, pixels: s.rgb),
                                   to: "\(root)/\(d == .none ? "normal" : "abnormal")/\(name)")
            if d != .none { try ImageEncoder.write(Image(width: 48, height: 48, channels: 1, pixels: s.mask), to: "\(root)/masks/\(name)") }
        }

        // Detector: tiny random CLIP and prompts, 28 px input.
        let model = try CLIPModel.random(CLIPArchitecture.bundled("tiny-demo"), seed: 7)
        var config = AnomalyCLIPConfiguration()
        config.imageSize = 28
        config.dpamBlocks = max(1, model.vision.layers - 1)
        config.featureLayers = [model.vision.layers]
        config.deepPromptDepth = min(config.deepPromptDepth, model.text.layers)
        let prompts = PromptParameters.random(width: model.text.width, configuration: config, seed: 11)
        let detector = try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: config, tokenizer: try CLIPTokenizer.shared())
        let preprocessor = ImagePreprocessor(size: 28, resize: .square)

        var evaluation = DatasetEvaluation(output: out, proMode: .mvtec, overlaysPerKind: 2)
        var warnings: [String] = []
        evaluation.warn = { warnings.append($0) }
        let samples = try DatasetLayout.folder.reader(root: root).samples(split: .test)
        var maps: [[Float]] = [], scores: [Float] = []
        let report = try evaluation.run(samples: samples, method: "anomalyclip", settings: [("image_size", "28")], predict: { sample in
            let image = try ImageDecoder.decodeRGB(path: sample.imagePath)
            let r = detector.detect(preprocessor.tensor(from: image).reshaped([1, 3, 28, 28]))
            maps.append(r.maps[0].scalars); scores.append(r.imageScores[0])
            return MapPrediction(map: r.maps[0].scalars, width: 28, height: 28, score: r.imageScores[0], imageSize: (image.width, image.height))
        }, overlayImage: { sample, _, _ in preprocessor.resized(try ImageDecoder.decodeRGB(path: sample.imagePath)) })

        XCTAssertEqual(warnings, [])
        let c = try XCTUnwrap(report.classes.first)
        XCTAssertEqual(c.images, 6)
        XCTAssertEqual(c.overlays.count, 4)
        // The report's numbers are the metrics of exactly the detector's outputs (masks nearest-resized to 28).
        let labels = samples["tiles"]?.map(\.label) ?? []
        let image = try ImageMetrics.compute(scores: scores, labels: labels)
        XCTAssertEqual(c.metrics.imageAUROC, image.auroc)
        let pixelSamples = try zip(samples["tiles"] ?? [], maps).map { s, m in
            try PixelSample(width: 28, height: 28, scores: m, mask: s.maskPath.map {
                PillowResize.nearest(try ImageDecoder.decodeGray(path: $0), width: 28, height: 28).pixels.map { $0 > 0 ? 1 : 0 }
            })
        }
        let pixel = try PixelMetrics.compute(pixelSamples, proMode: .mvtec)
        XCTAssertEqual(try XCTUnwrap(c.metrics.pixelAUROC), pixel.auroc, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(c.metrics.pixelAUPRO), try XCTUnwrap(pixel.aupro), accuracy: 1e-12)
        for (key, value) in c.metrics.fields { XCTAssertTrue((0...1).contains(try XCTUnwrap(value)), key) }
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/metrics.json"))) as? [String: Any])
        // (Foundation's JSON parser on Linux may round the last digit.)
        let written = try XCTUnwrap(((json["classes"] as? [String: Any])?["tiles"] as? [String: Any])?["image_auroc"] as? Double)
        XCTAssertEqual(written, image.auroc, accuracy: 1e-12)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/report.html"))
    }
}
