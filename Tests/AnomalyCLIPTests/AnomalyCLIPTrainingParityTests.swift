import Checkpoint
import CLIP
import Foundation
import Tensor
import TestSupport
import XCTest
@testable import AnomalyCLIP

/// The glocal loss, prompt gradients and Adam steps against the official training code's autograd
/// (tools/fixtures/make_anomalyclip_fixtures.py, reference.safetensors).
final class AnomalyCLIPTrainingParityTests: XCTestCase {
    func setUpTraining() throws -> (PromptTextEncoder, PromptParameters, GlocalLoss.Batch, Checkpoint) {
        let (detector, ref) = try AnomalyCLIPParityTests.makeDetector()
        let features = detector.features(try ref.tensor("images"))
        let labels = try ref.tensor("labels").scalars.map { Int($0) }
        let batch = GlocalLoss.Batch(global: features.global, patches: features.patches, masks: try ref.tensor("masks"), labels: labels)
        let (prompts, _) = try PromptParameters.load(path: AnomalyCLIPParityTests.path("prompts_official.pth"))
        let encoder = PromptTextEncoder(model: detector.model, configuration: detector.configuration, tokenizer: try CLIPTokenizer.shared())
        return (encoder, prompts, batch, ref)
    }

    func relativeError(_ got: Tensor, _ want: Tensor) throws -> Float { try Parity.maxRelativeError(got, want) }

    func testLossTermsAndPromptGradientsMatchOfficialAutograd() throws {
        let (encoder, prompts, batch, ref) = try setUpTraining()
        let tape = Tape()
        let variables = PromptTextEncoder.Variables(prompts, tape: tape)
        let text = encoder.textFeatures(variables)
        XCTAssertLessThanOrEqual(try relativeError(text.value, try ref.tensor("text_features")), 2e-6)
        let terms = GlocalLoss()(textFeatures: text, batch: batch)
        for (name, value) in [("loss_total", terms.total.value[flat: 0]), ("loss_global_ce", terms.globalCrossEntropy),
                              ("loss_focal", terms.focal), ("loss_dice", terms.dice)] {
            let want = try ref.tensor(name)[flat: 0]
            XCTAssertEqual(value, want, accuracy: 1e-5 * max(1, abs(want)), name)
        }
        let grads = try tape.backward(terms.total).named(variables.named)
        // Gradients: the deep prompts' gradients pass through fp16 rounding (as in the official autograd), so a float32
        // difference can flip a rounding; allow one fp16 step of the largest gradient (|g|·2⁻¹⁰) there, 1e-4 elsewhere.
        for (ours, theirs, tolerance) in [("ctx_pos", "grad_ctx_pos", Float(1e-4)), ("ctx_neg", "grad_ctx_neg", 1e-4),
                                          ("deep_prompts.0", "grad_compound_prompts_text_0", 1.0 / 1024),
                                          ("deep_prompts.1", "grad_compound_prompts_text_1", 1.0 / 1024)] {
            let err = try relativeError(try XCTUnwrap(grads[ours]), try ref.tensor(theirs))
            XCTAssertLessThanOrEqual(err, tolerance, "\(ours): max relative error \(err)")
        }
    }

    func testTwoAdamStepsMatchOfficial() throws {
        let (encoder, prompts, batch, ref) = try setUpTraining()
        var parameters = prompts.namedTensors
        var adam = Adam(learningRate: 1e-3, beta1: 0.5, beta2: 0.999)
        var lossAfterFirst: Float = 0
        for step in 1...2 {
            let tape = Tape()
            let current = PromptParameters(namedTensors: parameters)
            let variables = PromptTextEncoder.Variables(current, tape: tape)
            let terms = GlocalLoss()(textFeatures: encoder.textFeatures(variables), batch: batch)
            if step == 2 { lossAfterFirst = terms.total.value[flat: 0] }
            adam.step(&parameters, gradients: try tape.backward(terms.total).named(variables.named))
            let prefix = step == 1 ? "after_step_" : "after_step2_"
            for (ours, theirs) in [("ctx_pos", "ctx_pos"), ("ctx_neg", "ctx_neg"),
                                   ("deep_prompts.0", "compound_prompts_text_0"), ("deep_prompts.1", "compound_prompts_text_1")] {
                let err = try relativeError(parameters[ours]!, try ref.tensor(prefix + theirs))
                XCTAssertLessThanOrEqual(err, 1e-4, "step \(step) \(ours): max relative error \(err)")
            }
        }
        XCTAssertEqual(lossAfterFirst, try ref.tensor("loss_total_step2")[flat: 0], accuracy: 1e-4)
    }
}

/// Central finite differences of the whole training objective (prompts -> text tower -> glocal loss).
final class AnomalyCLIPGradientCheckTests: XCTestCase {
    func testEveryPromptParameterAgainstFiniteDifferences() throws {
        let (detector, ref) = try AnomalyCLIPParityTests.makeDetector()
        let features = detector.features(try ref.tensor("images"))
        let batch = GlocalLoss.Batch(global: features.global, patches: features.patches, masks: try ref.tensor("masks"),
                                     labels: try ref.tensor("labels").scalars.map { Int($0) })
        let (prompts, _) = try PromptParameters.load(path: AnomalyCLIPParityTests.path("prompts_official.pth"))
        let encoder = PromptTextEncoder(model: detector.model, configuration: detector.configuration, tokenizer: try CLIPTokenizer.shared())
        let inputs = [prompts.normalContext, prompts.abnormalContext] + prompts.deepPrompts
        // h = 1e-2 is far above the fp16 spacing (~1e-5) of the rounded deep prompts, so the staircase averages out.
        let results = try GradientCheck.run(inputs, h: 1e-2, samples: 24) { _, v in
            let variables = PromptTextEncoder.Variables(normalContext: v[0], abnormalContext: v[1], deepPrompts: Array(v[2...]))
            return GlocalLoss()(textFeatures: encoder.textFeatures(variables), batch: batch).total
        }
        XCTAssertEqual(results.count, 4)
        for r in results { XCTAssertLessThanOrEqual(r.relativeError, 2e-2, "prompt parameter \(r.input): \(r)") }
    }
}
