import Foundation
import TestSupport
import XCTest
@testable import Tensor

/// Loss values and input gradients against PyTorch (tools/fixtures/make_loss_fixtures.py): focal and dice as
/// AnomalyCLIP's loss.py on softmax maps, cross-entropy, MSE and the squared-L2 triplet margin.
final class GradientLossReferenceTests: XCTestCase {
    struct Fixture: Decodable {
        let map_logits: [Float], map_shape: [Int], gt: [Float]
        let focal: Float, focal_grad: [Float], dice_pair: Float, dice_pair_grad: [Float]
        let ce_logits: [Float], ce_targets: [Int], ce: Float, ce_grad: [Float]
        let a: [Float], p: [Float], n: [Float], margin: Float
        let mse: Float, mse_grad_a: [Float], mse_grad_p: [Float]
        let triplet: Float, triplet_grad: [[Float]]
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "losses", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func assertClose(_ got: Tensor?, _ want: [Float], _ what: String, tolerance: Float = 1e-5) {
        guard let got else { return XCTFail("\(what): no gradient") }
        TestSupport.assertClose(got.scalars, want, rel: tolerance, abs: 0, what)
    }

    /// Softmax over the class dimension of [B, C, H, W], as AnomalyCLIP's similarity maps.
    func classSoftmax(_ x: Variable) -> Variable {
        let s = x.shape
        return x.reshaped([s[0], s[1], s[2] * s[3]]).transposedLastTwo().softmax().transposedLastTwo().reshaped(s)
    }

    func testFocalAndDiceMatchAnomalyCLIP() throws {
        let f = Self.fixture
        let targets = f.gt.map { Int($0) }, gt = Tensor(shape: [f.map_shape[0]] + f.map_shape.suffix(2), scalars: f.gt)
        let tape = Tape()
        let x = tape.parameter(Tensor(shape: f.map_shape, scalars: f.map_logits))
        let focal = classSoftmax(x).focalLoss(targets: targets)
        XCTAssertEqual(focal.value[flat: 0], f.focal, accuracy: 1e-6)
        assertClose(try tape.backward(focal)[x], f.focal_grad, "focal gradient")

        let t2 = Tape()
        let x2 = t2.parameter(x.value)
        let p = classSoftmax(x2), s = f.map_shape
        let anomalous = p.slice(axis: 1, 1..<2).reshaped([s[0], s[2], s[3]])
        let normal = p.slice(axis: 1, 0..<1).reshaped([s[0], s[2], s[3]])
        let dice = anomalous.diceLoss(targets: gt) + normal.diceLoss(targets: gt.map { 1 - $0 })
        XCTAssertEqual(dice.value[flat: 0], f.dice_pair, accuracy: 1e-6)
        assertClose(try t2.backward(dice)[x2], f.dice_pair_grad, "dice gradient")
    }

    func testCrossEntropyMSEAndTripletMatchTorch() throws {
        let f = Self.fixture
        let tape = Tape()
        let logits = tape.parameter(Tensor(shape: [6, 4], scalars: f.ce_logits))
        let ce = logits.crossEntropy(targets: f.ce_targets)
        XCTAssertEqual(ce.value[flat: 0], f.ce, accuracy: 1e-5)
        assertClose(try tape.backward(ce)[logits], f.ce_grad, "cross-entropy gradient")

        let t = Tape()
        let a = t.parameter(Tensor(shape: [5, 7], scalars: f.a)), p = t.parameter(Tensor(shape: [5, 7], scalars: f.p))
        let n = t.parameter(Tensor(shape: [5, 7], scalars: f.n))
        let mse = a.mseLoss(p)
        XCTAssertEqual(mse.value[flat: 0], f.mse, accuracy: 1e-5)
        let gm = try t.backward(mse)
        assertClose(gm[a], f.mse_grad_a, "mse gradient a")
        assertClose(gm[p], f.mse_grad_p, "mse gradient p")
        let triplet = Variable.tripletMarginLoss(anchor: a, positive: p, negative: n, margin: f.margin)
        XCTAssertEqual(triplet.value[flat: 0], f.triplet, accuracy: 1e-5)
        let gt = try t.backward(triplet)
        for (i, v) in [a, p, n].enumerated() { assertClose(gt[v], f.triplet_grad[i], "triplet gradient \(i)") }
    }
}
