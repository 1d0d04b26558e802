import AnomalyCLIP
import Checkpoint
import CLIP
import Detection
import DetectionTestSupport
import Evaluation
import Foundation
import ImageIO
import Tensor
import TestSupport
import XCTest

/// AnomalyCLIP + shots through the factory: `spec.shots` builds the bank at load (the seeded protocol's way), a fitted
/// model file carries it, and both give the library's numbers.
final class AnomalyCLIPShotDetectionTests: TinyModelsTestCase {
    func shotSpec() -> DetectorSpec {
        var spec = m.spec(.anomalyclip)
        spec.shots = m.shots
        return spec
    }

    func testShotsInTheSpecBuildTheBankAndMatchTheLibrary() throws {
        let detector = try DetectorFactory.make(shotSpec()).detector
        // 9 blocks, not a bundled backbone: the quarters rule (2.25, 4.5, 6.75, 9 rounded half away from zero).
        XCTAssertEqual(detector.spec.bankLayers, [2, 5, 7, 9])
        XCTAssertEqual(detector.learnedImages.map { ($0 as NSString).lastPathComponent }, ["image0.png", "image1.png"])
        XCTAssertEqual(detector.identity.shotCount, 2)
        XCTAssertEqual(detector.naturalMapRange, 0...Float(2 + 2 * 4))

        // The library on the same pixels: zero-shot detector + bank of the same shots.
        let model = try CLIPModel.load(path: m.clip)
        let (prompts, meta) = try PromptParameters.load(path: m.prompts)
        let library = try AnomalyCLIPDetector(model: model, prompts: prompts, configuration: AnomalyCLIPConfiguration.fromMetadata(meta)!,
                                              tokenizer: try CLIPTokenizer.shared())
        let preprocessor = detector.preprocessor
        let shots = try m.images(m.shots).map { try preprocessor.preprocess($0).reshaped([1, 3, 64, 64]) }
        let bank = try library.shotBank(shots: shots, layers: [2, 5, 7, 9])
        let pixels = preprocessor.batch(try m.images(m.tests))
        let want = library.detect(pixels, shots: bank)
        let got = try detector.predict(try m.images(m.tests))
        XCTAssertEqual(got.map(\.score), want.imageScores)
        // Fused scores differ from zero-shot ones: the few-shot half is really in them.
        let zero = try DetectorFactory.make(m.spec(.anomalyclip)).detector.predict(try m.images(m.tests))
        XCTAssertNotEqual(got.map(\.score), zero.map(\.score))
        assertParity(Tensor(shape: [2], scalars: want.zeroShotScores), Tensor(shape: [2], scalars: library.detect(pixels).imageScores),
                     tolerance: 1e-5, "zero-shot half of the shared forward")
    }

    func testModelFileCarriesTheBankAndTheSpec() throws {
        var spec = shotSpec()
        spec.bankLayers = [5, 9]
        spec.phrases = ["scratch"]
        let output = m.folder.appendingPathComponent("fitted-anomalyclip.safetensors").path
        let fitted = try AnomalyCLIPShotFitting.fit(spec, output: output)
        var fromFile = DetectorSpec(method: .anomalyclip)
        fromFile.model = output
        let loaded = try DetectorFactory.make(fromFile).detector
        XCTAssertEqual(loaded.spec.bankLayers, [5, 9])
        XCTAssertEqual(loaded.spec.phrases, ["scratch"])
        XCTAssertEqual(loaded.learnedImages, fitted.learnedImages)
        XCTAssertEqual(loaded.spec.model, output)
        let images = try m.images(m.tests)
        XCTAssertEqual(try loaded.predict(images).map(\.score), try fitted.predict(images).map(\.score))
        // Layers other than the stored bank's need shots to rebuild it.
        fromFile.bankLayers = [2]
        XCTAssertThrowsError(try DetectorFactory.make(fromFile)) { XCTAssertTrue("\($0)".hasPrefix("--bank-layers: "), "\($0)") }
    }

    func testBankLayersWithoutShotsAndOutOfRangeAreErrors() throws {
        var spec = m.spec(.anomalyclip)
        spec.bankLayers = [2]
        XCTAssertThrowsError(try DetectorFactory.make(spec)) {
            XCTAssertEqual("\($0)", "--bank-layers: needs --shots (or a model written by `clipad fit --method anomalyclip`)")
        }
        var far = shotSpec()
        far.bankLayers = [3, 12]
        XCTAssertThrowsError(try DetectorFactory.make(far)) {
            XCTAssertEqual("\($0)", "--bank-layers: bank layer 12 must be in 1...9 (the vision tower's blocks)")
        }
        var one = m.spec(.anomalyclip)
        one.shots = [m.shots[0]]
        XCTAssertThrowsError(try DetectorFactory.make(one)) { XCTAssertTrue("\($0)".hasPrefix("--shots: AnomalyCLIP + shots needs at least 2 shots"), "\($0)") }
    }
}
