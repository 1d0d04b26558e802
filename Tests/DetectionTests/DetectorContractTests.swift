import AnomalyCLIP
import Checkpoint
import CLIP
import Detection
import DetectionTestSupport
import Evaluation
import Foundation
import ImageIO
import PromptAD
import Tensor
import TestSupport
import WinCLIP
import XCTest

/// Every method through the one protocol and the one spec: the same numbers as the method called directly, any
/// batch size, defaults from data, recorded values and overrides in the right order, and the guard-rails.
final class DetectorContractTests: TinyModelsTestCase {
    func build(_ spec: DetectorSpec, _ options: DetectorFactory.Options = .init()) throws -> any Detector {
        try DetectorFactory.make(spec, options: options).detector
    }

    func testEveryMethodMatchesItsLibraryAndAnyBatchSize() throws {
        let images = try m.images(m.tests)
        for method in DetectionMethod.allCases {
            let detector = try build(m.spec(method))
            let batch = try detector.predict(images)
            let single = try images.map { try detector.predict($0) }
            XCTAssertEqual(batch.count, 2, method.rawValue)
            for (b, s) in zip(batch, single) {
                XCTAssertEqual(b.score, s.score, accuracy: 1e-5, method.rawValue)
                assertParity(Tensor(shape: [b.map.count], scalars: b.map), Tensor(shape: [s.map.count], scalars: s.map), tolerance: 1e-5, method.rawValue)
                XCTAssertEqual(b.map.count, detector.mapSide * detector.mapSide)
                XCTAssertEqual(b.gridMap.count, b.gridSide * b.gridSide)
                XCTAssertEqual(b.gridSide, 4, method.rawValue)
                XCTAssertNil(b.label, "no thresholds, no label")
            }
            // The method's own library on the same pixels gives the same score.
            let pixels = detector.preprocessor.batch(images)
            let direct: [Float]
            switch method {
            case .anomalyclip:
                let model = try CLIPModel.load(path: m.clip)
                let (prompts, meta) = try PromptParameters.load(path: m.prompts)
                direct = try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: AnomalyCLIPConfiguration.fromMetadata(meta)!,
                                                 tokenizer: try CLIPTokenizer.shared()).detect(pixels).imageScores
            case .promptad:
                let (fitted, _) = try PromptADModel.load(path: m.promptAD)
                direct = try PromptADDetector(model: try CLIPModel.load(path: m.clip, activation: .quickGELU), fitted: fitted)
                    .detect(pixels, mapSize: 64).imageScores
            case .winclip:
                var w = try WinCLIPDetector(model: try CLIPModel.load(path: m.clip, activation: .gelu), className: "object", tokenizer: try CLIPTokenizer.shared())
                try w.setReferences(detector.preprocessor.batch(try m.images(m.shots)))
                direct = try w.detect(pixels, outputSize: 64).imageScores
            }
            XCTAssertEqual(batch.map(\.score), direct, method.rawValue)
        }
    }

    func testDefaultsRecordedValuesAndOverrides() throws {
        // Recorded in the prompt file: layers 5,9, DPAM 4, input 64.
        let recorded = try build(m.spec(.anomalyclip)).spec
        XCTAssertEqual(recorded.layers, [5, 9])
        XCTAssertEqual([recorded.dpamBlocks, recorded.imageSize], [4, 64])
        // Explicit settings win over the recorded ones.
        var spec = m.spec(.anomalyclip)
        spec.layers = [9]; spec.imageSize = 32; spec.dpamBlocks = 2
        let overridden = try build(spec).spec
        XCTAssertEqual(overridden.layers, [9])
        XCTAssertEqual([overridden.dpamBlocks, overridden.imageSize], [2, 32])
        // A prompt file without a recorded configuration (the official .pth kind) takes the data defaults: this
        // 9-block backbone is not bundled, so the rule: last layer, DPAM on all but the first 5 blocks.
        let model = try CLIPModel.load(path: m.clip)
        XCTAssertEqual(MethodDefaults.shared.featureLayers(model: model), [9])
        XCTAssertEqual(MethodDefaults.shared.dpamBlocks(model: model), 4)
        XCTAssertEqual(MethodDefaults.shared.imageSize(.anomalyclip, model: model), 518)
        XCTAssertEqual(MethodDefaults.shared.imageSize(.winclip, model: model), 64, "native size")
        // A bundled backbone takes its own entry.
        let tiny = try CLIPModel.random(CLIPArchitecture.bundled("tiny-demo"))
        XCTAssertEqual(BackboneName.identify(tiny), "tiny-demo")
        XCTAssertEqual(MethodDefaults.shared.featureLayers(model: tiny), [3])
        XCTAssertEqual(MethodDefaults.shared.dpamBlocks(model: tiny), 2)
        XCTAssertEqual(MethodDefaults.shared.imageSize(.anomalyclip, model: tiny), 224)
        // The resolved spec records the fingerprint and absolute paths.
        XCTAssertTrue(recorded.clipFingerprint?.hasPrefix("fnv1a64:") ?? false)
        XCTAssertTrue(recorded.clip?.hasPrefix("/") ?? false)
    }

    func testSettingsThatMeanNothingForTheMethodAreErrors() throws {
        var spec = m.spec(.promptad)
        spec.layers = [1]
        XCTAssertThrowsError(try build(spec)) {
            XCTAssertEqual("\($0)", "--layers means nothing for --method promptad (it takes --activation, --clip, --map-size, --model)")
        }
        var w = m.spec(.winclip)
        w.prompts = m.prompts
        XCTAssertThrowsError(try w.checkSettingsApply()) { XCTAssertTrue("\($0)".hasPrefix("--prompts means nothing for --method winclip"), "\($0)") }
        var a = m.spec(.anomalyclip)
        a.className = "bottle"   // (--shots now means AnomalyCLIP + shots)
        XCTAssertThrowsError(try build(a)) { XCTAssertTrue("\($0)".hasPrefix("--class-name means nothing for --method anomalyclip"), "\($0)") }
        // A resolved spec read back (it records PromptAD's input size, shots and class) builds the same detector.
        let resolved = try build(m.spec(.promptad)).spec
        XCTAssertEqual(try build(resolved).spec, resolved)
    }

    func testThresholdsForAnotherDetectorAreAnErrorUnlessForced() throws {
        let fewShot = try build(m.spec(.winclip))
        let thresholds = CalibratedThresholds(
            thresholds: Thresholds(image: 0.5, pixel: 0.5, targetFPR: 0.01, imageFPR: 0, pixelFPR: 0, normalImages: 2, method: "winclip"),
            calibratedFor: fewShot.identity)
        let file = m.folder.appendingPathComponent("winclip-thresholds.json").path
        try Data(thresholds.json().utf8).write(to: URL(fileURLWithPath: file))
        // Same detector: accepted, labels appear.
        let same = try DetectorFactory.make(m.spec(.winclip), options: .init(thresholdsFile: file))
        XCTAssertEqual(same.warnings, [])
        XCTAssertNotNil(try same.detector.predict(try m.images(m.tests)[0]).label)
        // Zero-shot WinCLIP with WinCLIP+ thresholds: the shot count differs.
        var zeroShot = m.spec(.winclip)
        zeroShot.shots = nil
        XCTAssertThrowsError(try DetectorFactory.make(zeroShot, options: .init(thresholdsFile: file))) {
            XCTAssertTrue("\($0)".contains("shots: calibrated 2, this detector 0"), "\($0)")
        }
        // Another class name, forced: a warning instead.
        var other = m.spec(.winclip)
        other.className = "screw"
        let forced = try DetectorFactory.make(other, options: .init(thresholdsFile: file, force: true))
        XCTAssertEqual(forced.warnings.count, 1)
        XCTAssertTrue(forced.warnings[0].contains("class: calibrated 'object', this detector 'screw'"), forced.warnings[0])
        // Thresholds of another method (an old file without calibrated_for) are refused too.
        var old = thresholds
        old.calibratedFor = nil
        old.thresholds.method = "promptad"
        try Data(old.json().utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try DetectorFactory.make(m.spec(.winclip), options: .init(thresholdsFile: file)))
    }

    func testCalibratedModelFileRoundTrip() throws {
        let detector = try build(m.spec(.promptad))
        let t = CalibratedThresholds(
            thresholds: Thresholds(image: 0.25, pixel: 0.2, targetFPR: 0.01, imageFPR: 0, pixelFPR: 0, normalImages: 2, method: "promptad"),
            calibratedFor: detector.identity)
        let out = m.folder.appendingPathComponent("promptad-calibrated.safetensors").path
        XCTAssertTrue(try detector.saveModel(with: t, to: out))
        var spec = DetectorSpec(method: .promptad)
        spec.model = out
        let reloaded = try build(spec)
        XCTAssertEqual(reloaded.thresholds, t)
        // The same model with another map size: its thresholds no longer apply.
        spec.mapSize = 32
        XCTAssertThrowsError(try build(spec)) { XCTAssertTrue("\($0)".contains("map size: calibrated 64, this detector 32"), "\($0)") }
    }

    func testModelFilePathsResolveBesideTheModelFile() throws {
        // A model whose CLIP path was typed relative to another folder: found beside the model file.
        let (fitted, meta) = try PromptADModel.load(path: m.promptAD)
        var moved = fitted
        moved.clipPath = "some/where/else/clip.safetensors"
        let path = m.folder.appendingPathComponent("moved.safetensors").path
        try moved.save(path: path, extraMetadata: meta.filter { $0.key.hasPrefix("fit") })
        var spec = DetectorSpec(method: .promptad)
        spec.model = path
        XCTAssertEqual(try build(spec).spec.clip, URL(fileURLWithPath: m.clip).standardizedFileURL.path)
        // Nowhere to be found: the error names the full paths tried.
        moved.clipPath = "/nonexistent/missing-clip.safetensors"
        try moved.save(path: path)
        XCTAssertThrowsError(try build(spec)) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent/missing-clip.safetensors: the CLIP checkpoint recorded in \(m.folder.standardizedFileURL.path)/moved.safetensors does not exist (also tried \(m.folder.standardizedFileURL.path)/missing-clip.safetensors)"), "\($0)")
        }
    }

    func testNonFiniteScoresAreAnErrorNamingTheImage() throws {
        var weights = CLIPModel.randomWeights(TinyModels.architecture, seed: 5)
        weights["visual.proj"] = Tensor(shape: weights["visual.proj"]!.shape) { _ in .nan }
        let clip = m.folder.appendingPathComponent("nan-clip.safetensors").path
        try SafetensorsWriter.write(weights, to: clip)
        var spec = m.spec(.anomalyclip)
        spec.clip = clip
        XCTAssertThrowsError(try build(spec).predict(try m.images(m.tests)[0], name: "part-17.png")) {
            XCTAssertEqual($0 as? DetectionError, .nonFiniteScore(image: "part-17.png"))
        }
    }

    func testConcurrentCallersShareTheCoresWithoutRacing() throws {
        let a = try build(m.spec(.anomalyclip)), w = try build(m.spec(.winclip))
        let images = try m.images(m.tests)
        let wantA = try a.predict(images).map(\.score), wantW = try w.predict(images).map(\.score)
        var got = [[Float]](repeating: [], count: 8)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let scores = (try? (i % 2 == 0 ? a : w).predict(images).map(\.score)) ?? []
            lock.lock(); got[i] = scores; lock.unlock()
        }
        for i in 0..<8 { XCTAssertEqual(got[i], i % 2 == 0 ? wantA : wantW, "caller \(i)") }
        XCTAssertEqual(ExecutionContext.shared.peakConcurrentCallers, 1, "compute entered one caller at a time")
    }
}
