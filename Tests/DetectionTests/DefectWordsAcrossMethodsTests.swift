import Detection
import DetectionTestSupport
import Foundation
import PromptAD
import WinCLIP
import XCTest

/// The user's defect words reach every method the same way (`DetectorSpec.phrases`, `DefectPhrases.template`):
/// WinCLIP's ensemble gains states, PromptAD's fitted gallery gains states and its model file records them.
final class DefectWordsAcrossMethodsTests: TinyModelsTestCase {
    func testWinCLIPEnsembleAppendsEachWordAsAStateInEveryTemplate() {
        let plain = WinCLIPPrompts.ensemble(className: "bottle")
        let more = WinCLIPPrompts.ensemble(className: "bottle", extraAnomalousStates: ["crack {}", "{} with a dent"])
        XCTAssertEqual(more.normal, plain.normal)
        XCTAssertEqual(Array(more.anomalous.prefix(84)), plain.anomalous)
        XCTAssertEqual(more.anomalous.count, 84 + 2 * 21)
        XCTAssertEqual(more.anomalous[84], "a cropped photo of the crack bottle.")
        XCTAssertEqual(more.anomalous[84 + 21], "a cropped photo of the bottle with a dent.")
    }

    func testWinCLIPWordsChangeTheScoresAndAreRecorded() throws {
        var spec = m.spec(.winclip)
        let plain = try DetectorFactory.make(spec).detector
        spec.phrases = ["crack", "{} with a dent"]
        let worded = try DetectorFactory.make(spec).detector
        XCTAssertEqual(worded.spec.phrases, ["crack", "{} with a dent"])
        XCTAssertNil(plain.spec.phrases)
        let images = try m.images(m.tests)
        let a = try plain.predict(images), b = try worded.predict(images)
        XCTAssertNotEqual(a.map(\.score), b.map(\.score), "the anomalous text embedding must change with the words")
        // Without words the official ensemble is untouched: a second plain detector scores identically.
        XCTAssertEqual(try DetectorFactory.make(m.spec(.winclip)).detector.predict(images).map(\.score), a.map(\.score))
    }

    func testPromptADFitsTheWordsIntoItsGalleryAndItsModelFileRecordsThem() throws {
        var spec = DetectorSpec(method: .promptad)
        spec.clip = m.clip
        spec.className = "bottle"
        spec.phrases = ["crack", "{} with a dent"]
        var request = ShotFitting.Request(spec: spec, shots: m.shots, seed: 1)
        request.promptAD.configuration.epochs = 1
        let fitted = try ShotFitting.fit(request)
        let states = try XCTUnwrap(fitted.promptAD?.states)
        XCTAssertTrue(states.contains("crack {}") && states.contains("{} with a dent"), "\(states)")
        XCTAssertEqual(fitted.detector.spec.phrases, ["crack", "{} with a dent"])

        let path = m.folder.appendingPathComponent("worded-promptad.safetensors").path
        try fitted.save(to: path)
        var load = DetectorSpec(method: .promptad)
        load.model = path
        XCTAssertEqual(try DetectorFactory.make(load).detector.spec.phrases, ["crack", "{} with a dent"])
        // Other words at predict time would mean a gallery that was never fitted: an error, not a silent ignore.
        load.phrases = ["scratch"]
        XCTAssertThrowsError(try DetectorFactory.make(load)) { XCTAssertTrue("\($0)".contains("defect-words"), "\($0)") }
    }
}
