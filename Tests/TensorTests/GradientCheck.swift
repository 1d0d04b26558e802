import XCTest
@testable import Tensor

/// Central finite differences against the tape's analytic gradients.
///
/// The op under test builds an output from parameter leaves; a non-scalar output is reduced to
/// L = Σ out · R with a fixed random R (summed in Float64) so every output element takes part. For each input,
/// up to `samples` elements are perturbed by ±h; the check passes when the relative error of the whole
/// sampled gradient vector, ‖analytic - numeric‖ / max(‖analytic‖, ‖numeric‖), is at most `tolerance`.
enum GradientCheck {
    static func check(
        _ inputs: [Tensor], h: Float = 1e-2, tolerance: Double = 1e-2, samples: Int = 40, seed: UInt64 = 99,
        _ what: String, file: StaticString = #filePath, line: UInt = #line,
        _ build: (Tape, [Variable]) -> Variable
    ) {
        let tape = Tape()
        let vars = inputs.map { tape.parameter($0) }
        let out = build(tape, vars)
        var rng = SeededGenerator(seed: seed)
        let r = Tensor.randomNormal(out.shape, std: 1, using: &rng)
        let loss = out.count == 1 ? out : (out * r).sum()
        let grads: Gradients
        do { grads = try tape.backward(loss) } catch {
            XCTFail("\(what): backward threw \(error)", file: file, line: line)
            return
        }
        func evaluate(_ values: [Tensor]) -> Double {
            let t = Tape()
            let o = build(t, values.map { t.constant($0) }).value
            if o.count == 1 { return Double(o[flat: 0]) }
            var s: Double = 0
            for i in 0..<o.count { s += Double(o[flat: i]) * Double(r[flat: i]) }
            return s
        }
        for (k, x) in inputs.enumerated() {
            guard let analytic = grads[vars[k]] else {
                XCTFail("\(what): no gradient for input \(k)", file: file, line: line)
                continue
            }
            XCTAssertEqual(analytic.count, x.count, "\(what): gradient size of input \(k)", file: file, line: line)
            var indices = Array(0..<x.count)
            if indices.count > samples {
                indices.shuffle(using: &rng)
                indices = Array(indices.prefix(samples))
            }
            var diff: Double = 0, normA: Double = 0, normN: Double = 0, worst = (0, 0.0, 0.0)
            for i in indices {
                var plus = inputs, minus = inputs
                plus[k].withMutableData { $0[i] += h }
                minus[k].withMutableData { $0[i] -= h }
                let numeric = (evaluate(plus) - evaluate(minus)) / (2 * Double(h))
                let a = Double(analytic[flat: i])
                diff += (a - numeric) * (a - numeric)
                normA += a * a
                normN += numeric * numeric
                if abs(a - numeric) > abs(worst.1 - worst.2) { worst = (i, a, numeric) }
            }
            let rel = diff.squareRoot() / max(normA.squareRoot(), normN.squareRoot(), 1e-8)
            XCTAssertLessThanOrEqual(rel, tolerance,
                "\(what): input \(k) relative gradient error \(rel); worst element \(worst.0): analytic \(worst.1), numeric \(worst.2)",
                file: file, line: line)
        }
    }

    static func random(_ shape: [Int], std: Float = 1, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape, std: std, using: &rng)
    }
}
