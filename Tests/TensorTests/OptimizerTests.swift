import Foundation
import XCTest
@testable import Tensor

/// Adam, SGD and the cosine schedule against steps computed by PyTorch (tools/fixtures/make_optimizer_fixtures.py).
final class OptimizerTests: XCTestCase {
    struct Run: Decodable {
        let lr: Float
        let betas: [Float]?, eps: Float?
        let momentum: Float?, dampening: Float?, nesterov: Bool?
        let weight_decay: Float
        let initial: [String: [Float]]
        let shapes: [String: [Int]]
        let gradients: [[String: [Float]]]
        let after: [[String: [Float]]]
    }
    struct Cosine: Decodable { let lr0: Float; let eta_min: Float; let t_max: Int; let lrs: [Double] }
    struct Fixture: Decodable {
        let adam: Run, adam_wd: Run, sgd: Run, sgd_nesterov: Run, sgd_dampened: Run
        let cosine: [Cosine]
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "optimizers", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// Replays the fixture's gradients through `step` and compares the parameters after every step
    /// (float32 on both sides; relative 1e-5 with a 1e-7 absolute floor).
    func replay(_ run: Run, _ what: String, step: (inout [String: Tensor], [String: Tensor]) -> Void) {
        func tensors(_ d: [String: [Float]]) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: d.map { ($0.key, Tensor(shape: run.shapes[$0.key]!, scalars: $0.value)) })
        }
        var params = tensors(run.initial)
        for (i, g) in run.gradients.enumerated() {
            step(&params, tensors(g))
            for (name, want) in run.after[i] {
                let got = params[name]!.scalars
                for (a, b) in zip(got, want) {
                    XCTAssertEqual(a, b, accuracy: max(1e-7, 1e-5 * abs(b)), "\(what) step \(i + 1) '\(name)'")
                }
            }
        }
    }

    func testAdamMatchesTorch() {
        for (run, what) in [(Self.fixture.adam, "adam"), (Self.fixture.adam_wd, "adam weight decay")] {
            var adam = Adam(learningRate: run.lr, beta1: run.betas![0], beta2: run.betas![1], epsilon: run.eps!,
                            weightDecay: run.weight_decay)
            replay(run, what) { adam.step(&$0, gradients: $1) }
            XCTAssertEqual(adam.steps(of: "ctx"), run.gradients.count)
        }
    }

    func testSGDMatchesTorch() {
        for (run, what) in [(Self.fixture.sgd, "sgd"), (Self.fixture.sgd_nesterov, "sgd nesterov"),
                            (Self.fixture.sgd_dampened, "sgd dampening")] {
            var sgd = SGD(learningRate: run.lr, momentum: run.momentum!, dampening: run.dampening!,
                          weightDecay: run.weight_decay, nesterov: run.nesterov!)
            replay(run, what) { sgd.step(&$0, gradients: $1) }
        }
    }

    func testCosineScheduleMatchesTorch() {
        for c in Self.fixture.cosine {
            let schedule = CosineSchedule(initial: c.lr0, minimum: c.eta_min, period: c.t_max)
            for (t, want) in c.lrs.enumerated() {
                XCTAssertEqual(Double(schedule.learningRate(at: t)), want, accuracy: 1e-6 * Double(c.lr0),
                               "cosine T=\(c.t_max) step \(t)")
            }
        }
    }

    func testParametersWithoutGradientsAreLeftAlone() {
        var params = ["a": Tensor(shape: [2], scalars: [1, 2]), "b": Tensor(shape: [1], scalars: [3])]
        var adam = Adam(learningRate: 0.1)
        adam.step(&params, gradients: ["a": Tensor(shape: [2], scalars: [1, -1])])
        XCTAssertEqual(params["b"]?.scalars, [3])
        XCTAssertEqual(adam.steps(of: "b"), 0)
        // First Adam step moves each entry by lr·sign(g) (bias-corrected m/√v = ±1).
        XCTAssertEqual(params["a"]!.scalars[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(params["a"]!.scalars[1], 2.1, accuracy: 1e-6)
    }
}
