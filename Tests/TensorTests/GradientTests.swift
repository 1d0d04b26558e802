import Foundation
import TestSupport
import XCTest
@testable import Tensor

/// Every differentiable op against central finite differences (GradientCheck: h = 1e-2 in Float32,
/// relative error of the sampled gradient vector ≤ 1e-2 unless a test states otherwise).
final class GradientTests: XCTestCase {


    // MARK: - Arithmetic

    func testAddSubtractMultiplyWithBroadcast() {
        let a = r([2, 3, 4], 1, 1), b = r([3, 4], 1, 2), c = r([2, 3, 4], 1, 3)
        GradientCheck.check([a, b], "add broadcast") { _, v in v[0] + v[1] }
        GradientCheck.check([a, b], "subtract broadcast") { _, v in v[0] - v[1] }
        GradientCheck.check([a, b], "multiply broadcast") { _, v in v[0] * v[1] }
        GradientCheck.check([a, c], "multiply same shape") { _, v in v[0] * v[1] - v[0] }
        GradientCheck.check([a], "add, multiply constant") { _, v in (v[0] + b) * c }
        GradientCheck.check([a], "scale, add scalar, subtract from scalar") { _, v in v[0].scaled(by: -1.5).adding(2).subtracted(from: 1) }
    }

    func testReductions() {
        let a = r([3, 5], 1, 4)
        GradientCheck.check([a], "sum") { _, v in (v[0] * v[0]).sum() }
        GradientCheck.check([a], "mean") { _, v in v[0].squared().mean() }
        GradientCheck.check([a], "sum last dimension") { _, v in v[0].sumLastDimension() }
        GradientCheck.check([a], "mean last dimension") { _, v in v[0].meanLastDimension() }
    }

    func testUnaryOps() {
        // Inputs kept away from relu's kink and log's pole.
        let a = Tensor(shape: [2, 6], generator: { i in (i % 2 == 0 ? 1 : -1) * (0.3 + Float(i) * 0.17) })
        GradientCheck.check([a], "relu") { _, v in v[0].relu() }
        GradientCheck.check([a], "square") { _, v in v[0].squared() }
        let pos = a.map { Swift.abs($0) + 0.5 }
        GradientCheck.check([pos], "log") { _, v in v[0].log() }
    }

    // MARK: - Linear

    func testLinearWithConstantWeight() {
        let x = r([2, 3, 5], 1, 5), w = LinearWeight(r([4, 5], 1, 6)), b = r([4], 1, 7)
        GradientCheck.check([x], "linear (frozen)") { _, v in v[0].linear(w, bias: b) }
        GradientCheck.check([x], "linear (frozen, no bias)") { _, v in v[0].linear(w) }
    }

    func testLinearWithLearnableWeight() {
        let x = r([2, 3, 5], 1, 8), w = r([4, 5], 1, 9), b = r([4], 1, 10)
        GradientCheck.check([x, w, b], "linear (learnable)") { _, v in v[0].linear(weight: v[1], bias: v[2]) }
        GradientCheck.check([x, w], "linear (learnable, no bias)") { _, v in v[0].linear(weight: v[1]) }
    }

    func testMatmul() {
        let x = r([2, 3, 5], 1, 11), p = r([5, 4], 1, 12)
        GradientCheck.check([x], "matmul constant") { _, v in v[0].matmul(p) }
        let a = r([3, 5], 1, 13), bt = r([4, 5], 1, 14)
        GradientCheck.check([a, p], "matmul") { _, v in v[0].matmul(v[1]) }
        GradientCheck.check([a, bt], "matmul transposeB") { _, v in v[0].matmul(v[1], transposeB: true) }
        // One side constant: image features · text featuresᵀ.
        GradientCheck.check([bt], "matmul constant left") { t, v in t.constant(a).matmul(v[0], transposeB: true) }
    }

    // MARK: - Shape

    func testConcatenateAndSlice() {
        let a = r([2, 1, 4], 1, 15), b = r([2, 3, 4], 1, 16), c = r([2, 2, 4], 1, 17)
        GradientCheck.check([a, b, c], "concatenate tokens") { _, v in Variable.concatenate(v, axis: 1) }
        let d = r([3, 4], 1, 18), e = r([1, 4], 1, 19)
        GradientCheck.check([d, e], "concatenate rows") { _, v in Variable.concatenate(v, axis: 0) }
        GradientCheck.check([b], "slice tokens") { _, v in v[0].slice(axis: 1, 1..<3) }
        GradientCheck.check([d], "slice rows") { _, v in v[0].slice(axis: 0, 1..<3) }
        // Prefix constant, context learnable, suffix constant (CoOp-style prompt assembly).
        GradientCheck.check([b], "concatenate with constants") { t, v in
            Variable.concatenate([t.constant(a), v[0], t.constant(c)], axis: 1)
        }
    }

    func testConcatenateForwardLayout() {
        let a = Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 2, 2], scalars: [5, 6, 7, 8, 9, 10, 11, 12])
        let c = Tensor.concatenate([a, b], axis: 1)
        XCTAssertEqual(c.shape, [2, 3, 2])
        XCTAssertEqual(c.scalars, [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
        XCTAssertEqual(c.slice(axis: 1, 0..<1).scalars, a.scalars)
    }

    func testReshapeTransposeGather() {
        let a = r([2, 3, 4], 1, 20)
        GradientCheck.check([a], "reshape") { _, v in v[0].reshaped([6, 4]) * r([6, 4], 1, 21) }
        GradientCheck.check([a], "transpose last two") { _, v in v[0].transposedLastTwo() }
        XCTAssertEqual(a.swappingLastTwo().shape, [2, 4, 3])
        XCTAssertEqual(a.swappingLastTwo()[flat: 1 * 12 + 2 * 3 + 1], a[flat: 1 * 12 + 1 * 4 + 2])
        // Repeated rows accumulate.
        GradientCheck.check([a], "gather rows") { _, v in v[0].reshaped([6, 4]).gatherRows([5, 0, 3, 5]) }
    }

    func testOverwriteRows() {
        let x = r([2, 6, 4], 1, 22), shared = r([2, 4], 1, 23), perSequence = r([2, 3, 4], 1, 24)
        GradientCheck.check([x, shared], "overwrite rows (shared)") { _, v in v[0].overwritingRows(start: 1, with: v[1]) }
        GradientCheck.check([x, perSequence], "overwrite rows (per sequence)") { _, v in v[0].overwritingRows(start: 2, with: v[1]) }
        // The overwritten positions pass exactly zero gradient to the incoming state.
        let tape = Tape()
        let vx = tape.parameter(x), vr = tape.parameter(shared)
        let out = vx.overwritingRows(start: 1, with: vr)
        XCTAssertEqual(out.value[0][1].scalars, shared[0].scalars)
        let g = try? tape.backward(out.sum())
        let gx = g?[vx]
        for s in 0..<2 { for p in 0..<6 { for c in 0..<4 {
            XCTAssertEqual(gx?[flat: (s * 6 + p) * 4 + c], (1...2).contains(p) ? 0 : 1)
        } } }
        XCTAssertEqual(g?[vr]?.scalars, [Float](repeating: 2, count: 8))
    }

    // MARK: - Normalisation, activations, softmax

    func testLayerNorm() {
        let x = r([3, 2, 16], 1, 25), gamma = r([16], 0.3, 26).map { $0 + 1 }, beta = r([16], 0.3, 27)
        GradientCheck.check([x], "layer norm") { _, v in v[0].layerNorm(gamma: gamma, beta: beta) }
    }

    func testActivations() {
        let x = r([3, 13], 1.5, 28)
        GradientCheck.check([x], "quickGELU") { _, v in v[0].quickGELU() }
        GradientCheck.check([x], "GELU") { _, v in v[0].gelu() }
    }

    func testSoftmaxLogSoftmaxAndL2Normalize() {
        let x = r([4, 7], 1, 29)
        GradientCheck.check([x], "softmax") { _, v in v[0].softmax() }
        GradientCheck.check([x], "log softmax") { _, v in v[0].logSoftmax() }
        GradientCheck.check([x], "l2 normalize") { _, v in v[0].l2Normalized() }
        let t = Tape()
        let y = t.constant(x).logSoftmax().value, s = x.softmax()
        for i in 0..<x.count { XCTAssertEqual(y[flat: i], Foundation.log(s[flat: i]), accuracy: 1e-5) }
    }

    // MARK: - Attention

    func testMultiHeadAttention() {
        let qkv = r([2, 5, 3 * 8], 1, 30)
        GradientCheck.check([qkv], "attention causal, 2 heads") { _, v in v[0].multiHeadAttention(heads: 2, causal: true) }
        GradientCheck.check([qkv], "attention full, 4 heads") { _, v in v[0].multiHeadAttention(heads: 4, causal: false) }
    }

    func testSelfAttentionWithFrozenProjections() {
        let w = 8, x = r([2, 4, w], 1, 31)
        let inW = LinearWeight(r([3 * w, w], 0.4, 32)), inB = r([3 * w], 0.1, 33)
        let outW = LinearWeight(r([w, w], 0.4, 34)), outB = r([w], 0.1, 35)
        GradientCheck.check([x], "self-attention") { _, v in
            v[0].selfAttention(inProjWeight: inW, inProjBias: inB, outProjWeight: outW, outProjBias: outB, heads: 2, causal: true)
        }
    }

    func testResize() {
        let x = r([2, 3, 4], 1, 36)
        GradientCheck.check([x], "resize bilinear up") { _, v in v[0].resized(height: 7, width: 9, mode: .bilinear) }
        GradientCheck.check([x], "resize bicubic up") { _, v in v[0].resized(height: 6, width: 10, mode: .bicubic) }
        GradientCheck.check([x], "resize bilinear down") { _, v in v[0].resized(height: 2, width: 3, mode: .bilinear) }
    }

    // MARK: - Losses

    func testCrossEntropy() {
        let logits = r([5, 3], 2, 37)
        GradientCheck.check([logits], "cross entropy") { _, v in v[0].crossEntropy(targets: [0, 2, 1, 1, 0]) }
    }

    func testFocalAndDiceOnSoftmaxProbabilities() {
        let logits = r([2, 2, 3, 4], 1.5, 38)
        let targets = (0..<24).map { ($0 * 7 + 3) % 5 < 2 ? 1 : 0 }
        // Probabilities over the class dimension, as AnomalyCLIP's maps: softmax over C of [B, C, H, W].
        func probabilities(_ v: Variable) -> Variable {
            v.reshaped([2, 2, 12]).transposedLastTwo().softmax().transposedLastTwo().reshaped([2, 2, 3, 4])
        }
        GradientCheck.check([logits], "focal loss") { _, v in probabilities(v[0]).focalLoss(targets: targets) }
        let gt = Tensor(shape: [2, 3, 4], scalars: targets.map(Float.init))
        GradientCheck.check([logits], "dice loss") { _, v in
            let p = probabilities(v[0])
            let anomalous = p.slice(axis: 1, 1..<2).reshaped([2, 3, 4]), normal = p.slice(axis: 1, 0..<1).reshaped([2, 3, 4])
            return anomalous.diceLoss(targets: gt) + normal.diceLoss(targets: gt.map { 1 - $0 })
        }
    }

    /// Over more pixels than one `FixedBlocks` block (the loss is summed per block on all cores), for γ = 2 (the
    /// pow-free path) and γ = 1.5: the definition's value and gradient, summed in one sequential loop.
    func testFocalLossOverManyBlocksMatchesTheDefinition() throws {
        let b = 2, c = 3, m = FixedBlocks.size + 1234, smooth: Float = 1e-5
        var rng = SeededGenerator(seed: 44)
        let logits = Tensor.randomNormal([b * m, c], std: 2, using: &rng)
        let targets = (0..<(b * m)).map { ($0 * 7 + $0 / 5) % c }
        for gamma: Float in [2, 1.5] {
            let tape = Tape()
            let x = tape.parameter(logits)
            let probs = x.softmax().reshaped([b, m, c]).transposedLastTwo()   // [B, C, m]
            let loss = probs.focalLoss(targets: targets, gamma: gamma)
            let grad = try XCTUnwrap(try tape.backward(loss)[x])
            let p = probs.value.data
            var want: Double = 0
            var dpts = [Double](repeating: 0, count: b * m)
            for i in 0..<(b * m) {
                let bi = i / m, j = i % m
                var pt = Double(smooth)
                for k in 0..<c { pt += Double(k == targets[i] ? 1 - smooth : smooth / Float(c - 1)) * Double(p[(bi * c + k) * m + j]) }
                want -= pow(1 - pt, Double(gamma)) * log(pt)
                dpts[i] = -pow(1 - pt, Double(gamma)) / pt + Double(gamma) * pow(1 - pt, Double(gamma) - 1) * log(pt)
            }
            want /= Double(b * m)
            XCTAssertEqual(Double(loss.value[flat: 0]), want, accuracy: 1e-6 * abs(want), "γ = \(gamma)")
            // The gradient through the softmax, from dL/dpt by the chain rule, on a sample of pixels.
            for i in stride(from: 0, to: b * m, by: 977) {
                let bi = i / m, j = i % m
                for k in 0..<c {
                    var dlogit: Double = 0
                    for q in 0..<c {
                        let pq = Double(p[(bi * c + q) * m + j]), pk = Double(p[(bi * c + k) * m + j])
                        let w = Double(q == targets[i] ? 1 - smooth : smooth / Float(c - 1))
                        dlogit += dpts[i] / Double(b * m) * w * pq * ((q == k ? 1 : 0) - pk)
                    }
                    XCTAssertEqual(Double(grad[flat: i * c + k]), dlogit, accuracy: 1e-4 * abs(dlogit) + 1e-10, "γ = \(gamma), pixel \(i), class \(k)")
                }
            }
        }
    }

    func testDistancesAndMargin() {
        let a = r([4, 6], 1, 39), p = r([4, 6], 1, 40), n = r([4, 6], 1, 41)
        GradientCheck.check([a, p], "squared distance") { _, v in v[0].squaredDistance(to: v[1]) }
        GradientCheck.check([a, p], "mse") { _, v in v[0].mseLoss(v[1]) }
        // margin chosen so some rows are active and some clamped (away from the kink).
        let t = Tape()
        let d = (t.constant(a).squaredDistance(to: t.constant(p)) - t.constant(a).squaredDistance(to: t.constant(n))).value
        let margin = (d.scalars.sorted()[1] + d.scalars.sorted()[2]) / -2
        GradientCheck.check([a, p, n], "triplet margin") { _, v in
            Variable.tripletMarginLoss(anchor: v[0], positive: v[1], negative: v[2], margin: margin)
        }
    }

    // MARK: - Tape behaviour

    func testMissingRuleIsAnError() {
        let tape = Tape()
        let x = tape.parameter(r([3], 1, 42))
        let y = tape.record("mystery", value: x.value, inputs: [x], rule: nil)
        XCTAssertThrowsError(try tape.backward(y.sum())) { error in
            XCTAssertEqual(error as? AutogradError, .missingBackwardRule(op: "mystery"))
        }
        XCTAssertThrowsError(try tape.backward(y)) { XCTAssertEqual($0 as? AutogradError, .nonScalarLoss(shape: [3])) }
    }

    func testConstantsRecordNoGradients() {
        let tape = Tape()
        let c = tape.constant(r([2, 3], 1, 43)), p = tape.parameter(r([2, 3], 1, 44))
        let frozen = c.linear(LinearWeight(r([4, 3], 1, 45)))
        XCTAssertFalse(frozen.requiresGrad)
        let loss = (frozen.sum() + (p * c).sum())
        let g = try? tape.backward(loss)
        XCTAssertNil(g?[c])
        XCTAssertNil(g?[frozen])
        XCTAssertEqual(g?[p]?.scalars, c.value.scalars)
    }

    func testGradientsAccumulateOverUses() {
        let tape = Tape()
        let x = tape.parameter(Tensor(shape: [2], scalars: [1, 2]))
        let g = try? tape.backward((x * x + x.scaled(by: 3)).sum())
        XCTAssertEqual(g?[x]?.scalars, [5, 7])
    }
}

private extension GradientTests {
    func r(_ shape: [Int], _ std: Float, _ seed: UInt64) -> Tensor { GradientCheck.random(shape, std: std, seed: seed) }
}
