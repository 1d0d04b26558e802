import CLIP
import Detection
import DetectionTestSupport
import Evaluation
import Foundation
import ImageIO
import PromptAD
import XCTest

/// Few-shot fitting as a library call, the encode/score split the protocol caches at, and the seeded protocol.
final class FewShotProtocolTests: TinyModelsTestCase {
    func promptADRequest(shots: [String], seed: UInt64) -> ShotFitting.Request {
        var spec = DetectorSpec(method: .promptad)
        spec.clip = m.clip
        spec.className = "bottle"
        var request = ShotFitting.Request(spec: spec, shots: shots, seed: seed)
        request.promptAD.configuration.epochs = 1
        return request
    }

    func assertSame(_ a: MapPrediction, _ b: MapPrediction, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.score, b.score, what, file: file, line: line)
        XCTAssertEqual(a.map, b.map, what, file: file, line: line)
        XCTAssertEqual(a.width, b.width, what, file: file, line: line)
    }

    /// The library fit gives exactly the model PromptADFitter fits when called directly (same shots encoded one at a
    /// time, as `clipad fit` always did; seed 111, one epoch), and saving it gives a file that predicts the same.
    func testShotFittingMatchesTheFitterAndItsSavedModelFile() throws {
        let fitted = try ShotFitting.fit(promptADRequest(shots: m.shots, seed: 111))
        XCTAssertEqual(fitted.detector.learnedImages, m.shots)
        let model = try CLIPLoader.shared.load(path: m.clip, requested: nil, recorded: nil,
                                               fallback: MethodDefaults.shared.activation(.promptad), notice: { _ in }).model
        var config = PromptADConfiguration()
        config.imageSize = 64
        config.epochs = 1
        config.seed = 111
        let preprocessor = ImagePreprocessor(size: 64, resize: .square)
        let features = PromptADImageFeatures.concatenate(try m.shots.map { path in
            try PromptADImageFeatures.compute(preprocessor.batch([try ImageDecoder.decodeRGB(path: path)]), model: model, configuration: config)
        })
        let direct = try PromptADFitter(model: model, configuration: config, className: "bottle", tokenizer: try CLIPTokenizer.shared())
            .fit(shotFeatures: features, shots: m.shots, clipPath: m.clip)
        let directPath = m.folder.appendingPathComponent("direct-\(UUID().uuidString).safetensors").path
        try direct.save(path: directPath)
        let path = m.folder.appendingPathComponent("fitted-\(UUID().uuidString).safetensors").path
        try fitted.save(to: path)
        func load(_ file: String) throws -> any Detector {
            var spec = DetectorSpec(method: .promptad)
            spec.model = file
            return try DetectorFactory.make(spec).detector
        }
        let reference = try load(directPath), reloaded = try load(path)
        for image in try m.images(m.tests) {
            let mine = try fitted.detector.predict(image).mapPrediction
            assertSame(mine, try reference.predict(image).mapPrediction, "in-memory fit vs PromptADFitter directly")
            assertSame(mine, try reloaded.predict(image).mapPrediction, "in-memory fit vs its saved model file")
        }
        let other = try ShotFitting.fit(promptADRequest(shots: m.shots, seed: 5))
        XCTAssertNotEqual(try other.detector.predict(try m.images(m.tests)[0]).score,
                          try fitted.detector.predict(try m.images(m.tests)[0]).score, "the seed reaches the prompt initialisation")
    }

    /// A cached encoding scored by a detector equals that detector's full forward pass, for the detector that
    /// encoded it and for another one (other shots) with the same feature key.
    func testCachedFeaturesScoreExactlyLikeTheForwardPass() throws {
        for method in [DetectionMethod.promptad, .winclip] {
            let cache = TestFeatureCache()
            let detectors: [any Detector] = try [[m.shots[0]], m.shots].map { shots in
                if method == .promptad { return try ShotFitting.fit(promptADRequest(shots: shots, seed: 1)).detector }
                var spec = DetectorSpec(method: .winclip)
                spec.clip = m.clip
                return try ShotFitting.fit(ShotFitting.Request(spec: spec, shots: shots, seed: 0)).detector
            }
            for detector in detectors {
                for path in m.tests {
                    assertSame(try cache.prediction(for: path, detector: detector),
                               try detector.predict(try ImageDecoder.decodeRGB(path: path), name: path).mapPrediction, "\(method) \(path)")
                }
            }
            XCTAssertEqual(cache.encodings, m.tests.count, "\(method): each test image encoded once")
            XCTAssertEqual(cache.reuses, m.tests.count, "\(method): the second detector re-scored the cached features")
            XCTAssertNotEqual(try cache.prediction(for: m.tests[1], detector: detectors[0]).score,
                              try cache.prediction(for: m.tests[1], detector: detectors[1]).score, "\(method): the shots matter")
        }
    }

    /// AnomalyCLIP + shots through the library fit: the bank is built from the shots (they become the learned images),
    /// and its cached encoding (one vision pass with the bank layers) scores exactly like its forward pass.
    func testAnomalyCLIPFitsItsBankAndScoresCachedFeaturesExactly() throws {
        var spec = m.spec(.anomalyclip)
        spec.shots = nil
        let cache = TestFeatureCache()
        let detectors = try [m.shots, [m.shots[1], m.tests[0]]].map { shots in
            try ShotFitting.fit(ShotFitting.Request(spec: spec, shots: shots, seed: 0)).detector
        }
        XCTAssertEqual(detectors[0].learnedImages, m.shots)
        for detector in detectors {
            for path in m.tests {
                assertSame(try cache.prediction(for: path, detector: detector),
                           try detector.predict(try ImageDecoder.decodeRGB(path: path), name: path).mapPrediction, "anomalyclip \(path)")
            }
        }
        XCTAssertEqual(cache.encodings, m.tests.count, "each test image encoded once")
        XCTAssertNotEqual(try cache.prediction(for: m.tests[1], detector: detectors[0]).score,
                          try cache.prediction(for: m.tests[1], detector: detectors[1]).score, "the shots matter")
    }

    /// A folder dataset with train/: two seeds, two shots each; the aggregate equals the mean and sample std of the
    /// per-seed reports, the shots come from train/ and are recorded, each test image is encoded once.
    func testSeededProtocolOnAFolderDataset() throws {
        let root = m.folder.appendingPathComponent("part-\(UUID().uuidString)")
        let generator = SyntheticDefectImages(size: 72)
        var train: [String] = []
        for (dir, count, defect) in [("train", 4, SyntheticDefectImages.Defect.none), ("normal", 3, .none), ("abnormal", 3, .hole)] {
            let folder = root.appendingPathComponent(dir)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("masks"), withIntermediateDirectories: true)
            for i in 0..<count {
                let s = generator.sample(index: 10 * dir.count + i, defect: defect)
                let path = folder.appendingPathComponent("\(dir)\(i).png").path
                try ImageEncoder.write(Image(width: s.size, height: s.size, channels: 3, pixels: s.rgb), to: path)
                if dir == "train" { train.append(path) }
                if defect != .none {
                    try ImageEncoder.write(Image(width: s.size, height: s.size, channels: 1, pixels: s.mask),
                                           to: root.appendingPathComponent("masks/\(dir)\(i).png").path)
                }
            }
        }
        let reader = FolderDataset(root: root.path)
        for method in [DetectionMethod.promptad, .winclip] {
            var spec = DetectorSpec(method: method)
            spec.clip = m.clip
            let output = root.appendingPathComponent("out-\(method.rawValue)").path
            var run = FewShotEvaluation(spec: spec, shotCount: 2, seeds: [0, 1], output: output)
            run.promptAD.configuration.epochs = 1
            let (summary, timing) = try run.run(train: try reader.samples(split: .train), test: try reader.samples(split: .test))
            XCTAssertEqual(timing.encodings, 6, "\(method): 6 test images encoded once")
            XCTAssertEqual(timing.reuses, 6, "\(method): and re-scored for the second seed")
            let name = reader.className
            for (k, run) in summary.runs.enumerated() {
                let shots = try XCTUnwrap(run.shots[name])
                XCTAssertEqual(shots.count, 2)
                XCTAssertTrue(Set(shots).isSubset(of: train), "\(method): shots from train/")
                XCTAssertEqual(shots, try ShotSelection.choose(from: train, count: 2, seed: UInt64(k)))
                let scored = try String(contentsOfFile: "\(output)/seed-\(run.seed)/\(name)/scores.jsonl", encoding: .utf8)
                XCTAssertEqual(scored.split(separator: "\n").count, 6)
                for shot in shots { XCTAssertFalse(scored.contains(shot)) }
            }
            // The aggregate against the per-seed files.
            func seedMetrics(_ seed: Int) throws -> [String: Any] {
                let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(output)/seed-\(seed)/metrics.json"))) as! [String: Any]
                return (object["classes"] as! [String: [String: Any]])[name]!
            }
            let top = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(output)/metrics.json"))) as! [String: Any]
            let aggregate = (top["classes"] as! [String: [String: Any]])[name]!
            for key in ["image_auroc", "pixel_auroc", "pixel_ap"] {
                let values = try [0, 1].map { try XCTUnwrap(try seedMetrics($0)[key] as? Double, key) }
                let mean = (values[0] + values[1]) / 2
                let std = (((values[0] - mean) * (values[0] - mean) + (values[1] - mean) * (values[1] - mean)) / 1).squareRoot()
                let entry = aggregate[key] as! [String: Any]
                XCTAssertEqual(entry["mean"] as! Double, mean, accuracy: 1e-12, "\(method) \(key)")
                XCTAssertEqual(entry["std"] as! Double, std, accuracy: 1e-12, "\(method) \(key)")
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(output)/report.html"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(output)/seed-1/report.html"))
        }
    }
}
