import Checkpoint
import CLIP
import Foundation
import Tensor
import XCTest
@testable import PromptAD

/// PromptAD data and files: the phrase tables, the official prompt-learner file, the model file and its errors,
/// and that fitting lowers the loss.
final class PromptADModelTests: XCTestCase {
    static func path(_ name: String) -> String { PromptADParityTests.path(name) }

    func testPhraseTablesEqualTheOfficialOnes() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.path("official_phrases.json")))
        let official = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        XCTAssertEqual(AnomalyPhrases.generic, official["state_anomaly"] as! [String])
        let classes = official["class_state_abnormal"] as! [String: [String]]
        XCTAssertEqual(Set(AnomalyPhrases.classSpecific.keys), Set(classes.keys))
        for (name, phrases) in classes { XCTAssertEqual(AnomalyPhrases.classSpecific[name], phrases, name) }
        XCTAssertEqual(AnomalyPhrases.promptNames, official["class_mapping"] as! [String: String])
        XCTAssertEqual(AnomalyPhrases.states(forClass: "bottle").count, 11)
        XCTAssertEqual(AnomalyPhrases.states(forClass: "magnetic tile", extra: ["{} with a crack"]).count, 9)
    }

    func testPromptCountsAndBadPhrase() throws {
        let s = try PromptADParityTests.setup()
        let cls = try s.fitter.prompts(for: .classification), seg = try s.fitter.prompts(for: .segmentation)
        XCTAssertEqual([cls.normalIDs.count, cls.manualIDs.count, cls.learnedIDs.count], [3, 33, 12])
        XCTAssertEqual([seg.normalIDs.count, seg.manualIDs.count, seg.learnedIDs.count], [1, 11, 4])
        XCTAssertThrowsError(try PromptADFitter(model: s.model, configuration: s.configuration, className: "x",
                                                extraStates: ["no placeholder"], tokenizer: try CLIPTokenizer.shared()).prompts(for: .classification)) {
            XCTAssertEqual("\($0)", "anomaly phrase 'no placeholder' must contain '{}' (where the class name goes) exactly once")
        }
    }

    func testOfficialPromptLearnerFileLoads() throws {
        let s = try PromptADParityTests.setup()
        let context = try PromptContext.load(path: Self.path("prompt_learner_seg.pth"), configuration: s.configuration, width: 32)
        XCTAssertEqual(context.normal.shape, [1, 4, 32])
        XCTAssertEqual(context.anomaly.shape, [4, 1, 32])
        XCTAssertEqual(context.normal.scalars, try s.reference.tensor("seg_normal_ctx").scalars)
        XCTAssertEqual(context.anomaly.scalars, try s.reference.tensor("seg_abnormal_ctx").scalars)
        // Wrong width, and a file that is no prompt learner: one line naming the file.
        XCTAssertThrowsError(try PromptContext.load(path: Self.path("prompt_learner_seg.pth"), configuration: s.configuration, width: 64)) {
            XCTAssertTrue("\($0)".hasPrefix(Self.path("prompt_learner_seg.pth") + ": normal_ctx is [1, 4, 32], expected"), "\($0)")
        }
        XCTAssertThrowsError(try PromptContext.load(path: Self.path("reference.safetensors"), configuration: s.configuration, width: 32)) {
            XCTAssertTrue("\($0)".contains("no 'normal_ctx' tensor"), "\($0)")
        }
    }

    func testModelFileRoundTripAndErrors() throws {
        let s = try PromptADParityTests.setup(epochs: 2)
        let f = try PromptADImageFeatures.compute(try PromptADParityTests.pixels().slice(rows: 0..<2), model: s.model, configuration: s.configuration)
        let fitted = try s.fitter.fit(shotFeatures: f, shots: ["a.png", "b.png"], clipPath: "clip.safetensors")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("promptad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("model.safetensors").path
        try fitted.save(path: file)
        let (back, meta) = try PromptADModel.load(path: file)
        XCTAssertEqual(meta["method"], "promptad")
        XCTAssertEqual(back.configuration, fitted.configuration)
        XCTAssertEqual(back.className, "bottle")
        XCTAssertEqual(back.shots, ["a.png", "b.png"])
        XCTAssertEqual(back.states, fitted.states)
        XCTAssertEqual(back.losses[.classification]!, fitted.losses[.classification]!)
        XCTAssertEqual(back.galleries[.segmentation]!.scalars, fitted.galleries[.segmentation]!.scalars)
        XCTAssertEqual(back.memoryBanks[1].scalars, fitted.memoryBanks[1].scalars)
        XCTAssertEqual(back.contexts[.classification]!.normal.scalars, fitted.contexts[.classification]!.normal.scalars)
        XCTAssertEqual(back.logitScale, fitted.logitScale)

        // Another method's file, and a file missing a tensor.
        XCTAssertThrowsError(try PromptADModel.load(path: Self.path("reference.safetensors"))) {
            XCTAssertTrue("\($0)".hasPrefix(Self.path("reference.safetensors") + ": not a ClipAD PromptAD model"), "\($0)")
        }
        var partial = fitted
        partial.memoryBanks = [fitted.memoryBanks[0]]
        let broken = dir.appendingPathComponent("broken.safetensors").path
        try partial.save(path: broken)
        XCTAssertThrowsError(try PromptADModel.load(path: broken)) {
            XCTAssertEqual("\($0)", "\(broken): missing tensor 'feature_gallery2'")
        }
        // A model for another backbone.
        var wrong = fitted
        wrong.memoryBanks = fitted.memoryBanks.map { _ in Tensor(zeros: [4, 16]) }
        XCTAssertThrowsError(try PromptADDetector(model: s.model, fitted: wrong)) {
            XCTAssertTrue("\($0)".contains("vision width is 32 (wrong backbone?)"), "\($0)")
        }
    }

    /// A full fit from random prompts on synthetic normal images: the loss goes down for both tasks.
    func testFittingLowersTheLoss() throws {
        var c = PromptADConfiguration()
        c.epochs = 30
        c.learningRate = 0.05   // the official 0.002 barely moves a tiny random model in 30 steps
        let s = try PromptADParityTests.setup()
        let fitter = try PromptADFitter(model: s.model, configuration: c, className: "bottle", tokenizer: try CLIPTokenizer.shared())
        let f = try PromptADImageFeatures.compute(try PromptADParityTests.pixels(), model: s.model, configuration: c)
        let fitted = try fitter.fit(shotFeatures: f, shots: [], clipPath: "")
        for task in PromptADLoss.Task.allCases {
            let l = fitted.losses[task]!
            XCTAssertEqual(l.count, 30)
            XCTAssertLessThan(l.last!, l.first! - 0.01, "\(task.rawValue): \(l.first!) -> \(l.last!)")
        }
    }

    /// Validation on held-out normals keeps the epoch with the lowest held-out loss, and that is recorded.
    func testValidationKeepsTheBestEpoch() throws {
        var c = PromptADConfiguration()
        c.epochs = 6
        c.learningRate = 0.05
        let s = try PromptADParityTests.setup()
        let fitter = try PromptADFitter(model: s.model, configuration: c, className: "bottle", tokenizer: try CLIPTokenizer.shared())
        let all = try PromptADImageFeatures.compute(try PromptADParityTests.pixels(), model: s.model, configuration: c)
        func rows(_ r: Range<Int>) -> PromptADImageFeatures {
            PromptADImageFeatures(global: all.global.slice(rows: r), tokens: all.tokens.slice(rows: r), memory: all.memory.map { $0.slice(rows: r) })
        }
        let fitted = try fitter.fit(shotFeatures: rows(0..<2), shots: [], clipPath: "", validation: rows(2..<4))
        for task in PromptADLoss.Task.allCases {
            let held = fitted.validationLosses[task]!
            XCTAssertEqual(held.count, 7)
            let best = held.indices.min { held[$0] < held[$1] }!
            XCTAssertEqual(fitted.selectedEpochs[task], best)
            // The kept prompts are the ones that give that held-out loss.
            let prompts = try fitter.prompts(for: task)
            let again = try fitter.lossAndGradients(fitted.contexts[task]!, prompts: prompts, task: task,
                                                    features: task == .classification ? all.global.slice(rows: 0..<2) : all.tokens.slice(rows: 0..<2),
                                                    validation: task == .classification ? all.global.slice(rows: 2..<4) : all.tokens.slice(rows: 2..<4))
            XCTAssertEqual(again.validationLoss!, held[best], accuracy: 1e-6)
        }
    }

    /// The prompt gradients of both losses by central finite differences (besides the PyTorch parity of
    /// PromptADParityTests).
    func testLossGradientsByFiniteDifferences() throws {
        let s = try PromptADParityTests.setup()
        let f = try PromptADImageFeatures.compute(try PromptADParityTests.pixels().slice(rows: 0..<2), model: s.model, configuration: s.configuration)
        for task in PromptADLoss.Task.allCases {
            let prompts = try s.fitter.prompts(for: task)
            let context = PromptContext(normal: try s.reference.tensor("\(task.rawValue)_normal_ctx"),
                                        anomaly: try s.reference.tensor("\(task.rawValue)_abnormal_ctx"))
            let results = try GradientCheck.run([context.normal, context.anomaly], h: 1e-2, samples: 24) { _, v in
                let text = prompts.features(normal: v[0], anomaly: v[1], text: s.model.text)
                return PromptADLoss.compute(task: task, features: task == .classification ? f.global : f.tokens, text: text,
                                            logitScale: s.fitter.logitScale, matchWeight: 0.001).total
            }
            for r in results { XCTAssertLessThanOrEqual(r.relativeError, 2e-2, "\(task.rawValue): \(r)") }
        }
    }
}
