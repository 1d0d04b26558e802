import Foundation
import TestSupport
import XCTest
@testable import CLIP
@testable import Tensor

/// The differentiable text tower against the inference path, and its gradients against finite differences.
final class TextTowerGradientTests: XCTestCase {
    /// Text width 128 (2 heads), 3 blocks, context 9; GELU and QuickGELU variants.
    func model(_ activation: Activation) throws -> CLIPModel {
        let json = """
        {"embed_dim": 16, "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16},
         "text_cfg": {"context_length": 9, "vocab_size": 50, "width": 128, "heads": 2, "layers": 3}}
        """
        let arch = try JSONDecoder().decode(CLIPArchitecture.self, from: Data(json.utf8))
        return try CLIPModel.random(arch, seed: 7, activation: activation)
    }

    /// SOT 48, EOT 49 (the largest id, so argmax finds it), zero padding.
    let ids = [[48, 5, 6, 7, 49, 0, 0, 0, 0], [48, 8, 9, 10, 11, 12, 49, 0, 0]]

    func deepPrompts(width: Int, seed: UInt64) -> [Int: Tensor] {
        var rng = SeededGenerator(seed: seed)
        return [1: .randomNormal([2, width], std: 0.5, using: &rng), 2: .randomNormal([2, width], std: 0.5, using: &rng)]
    }

    func testForwardMatchesInferencePath() throws {
        for activation in Activation.allCases {
            let m = try model(activation).text
            let embeddings = m.embed(ids: ids)
            let deep = deepPrompts(width: m.width, seed: 3)
            let want = m.forward(embeddings: embeddings, ids: ids, hook: { layer, hidden in
                guard let rows = deep[layer] else { return }
                for s in 0..<hidden.shape[0] { hidden.overwriteRows(sequence: s, start: 1, with: rows) }
            })
            let tape = Tape()
            let got = m.forward(embeddings: tape.parameter(embeddings), ids: ids,
                                deepPrompts: deep.mapValues { tape.parameter($0) }, tape: tape)
            XCTAssertEqual(got.shape, want.shape)
            var worst: Float = 0
            for i in 0..<want.count { worst = max(worst, abs(got.value[flat: i] - want[flat: i])) }
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(activation): largest difference \(worst)")
            // Without deep prompts too.
            let plain = m.forward(embeddings: tape.constant(embeddings), ids: ids, deepPrompts: nil, tape: tape)
            let plainWant = m.forward(ids: ids)
            for i in 0..<plainWant.count { XCTAssertEqual(plain.value[flat: i], plainWant[flat: i], accuracy: 1e-5) }
        }
    }

    /// Finite differences on embeddings and deep prompts: h = 1e-2, relative error ≤ 1e-2 over 24 sampled
    /// entries each (GradientCheck), through three blocks, the EOT gather, ln_final and the projection.
    func testGradientsThroughTheTower() throws {
        for activation in Activation.allCases {
            let m = try model(activation).text
            var rng = SeededGenerator(seed: 11)
            let embeddings = Tensor.randomNormal([2, 9, m.width], std: 0.5, using: &rng)
            let deep = deepPrompts(width: m.width, seed: 5)
            let ids = self.ids
            GradientCheck.check([embeddings, deep[1]!, deep[2]!], samples: 24, "text tower \(activation)") { tape, v in
                m.forward(embeddings: v[0], ids: ids, deepPrompts: [1: v[1], 2: v[2]], tape: tape).l2Normalized()
            }
        }
    }

    /// Positions a deep prompt overwrites get no gradient from anything after it in the embeddings.
    func testOverwrittenEmbeddingsGetNoGradient() throws {
        let m = try model(.quickGELU).text
        let deep = deepPrompts(width: m.width, seed: 9)
        let tape = Tape()
        let e = tape.parameter(m.embed(ids: ids))
        let out = m.forward(embeddings: e, ids: ids, deepPrompts: [0: tape.parameter(deep[1]!)], tape: tape)
        let g = try tape.backward(out.sum())
        let ge = try XCTUnwrap(g[e])
        for s in 0..<2 { for p in 1...2 { XCTAssertEqual(ge[s][p].maxAbs, 0) } }
        XCTAssertGreaterThan(ge[0][0].maxAbs, 0)
    }
}
