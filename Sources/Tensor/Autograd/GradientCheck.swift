/// Central finite differences against a tape's analytic gradients (for tests of ops and models).
///
/// `build` makes an output from the input leaves; a non-scalar output is reduced to L = Σ out · R with a fixed
/// random R (summed in Float64) so every output element takes part. For each input, up to `samples` elements
/// are perturbed by ±h; the result is the relative error of the sampled gradient vector,
/// ‖analytic - numeric‖ / max(‖analytic‖, ‖numeric‖), and the element that differs most.
public enum GradientCheck {
    public struct Result: CustomStringConvertible {
        public let input: Int
        public let relativeError: Double
        public let worstIndex: Int
        public let worstAnalytic: Double, worstNumeric: Double
        public var description: String {
            "input \(input): relative gradient error \(relativeError); worst element \(worstIndex): analytic \(worstAnalytic), numeric \(worstNumeric)"
        }
    }

    public static func run(
        _ inputs: [Tensor], h: Float = 1e-2, samples: Int = 40, seed: UInt64 = 99,
        _ build: (Tape, [Variable]) -> Variable
    ) throws -> [Result] {
        let tape = Tape()
        let vars = inputs.map { tape.parameter($0) }
        let out = build(tape, vars)
        var rng = SeededGenerator(seed: seed)
        let r = Tensor.randomNormal(out.shape, std: 1, using: &rng)
        let loss = out.count == 1 ? out : (out * r).sum()
        let grads = try tape.backward(loss)
        func evaluate(_ values: [Tensor]) -> Double {
            let t = Tape()
            let o = build(t, values.map { t.constant($0) }).value
            if o.count == 1 { return Double(o[flat: 0]) }
            var s: Double = 0
            for i in 0..<o.count { s += Double(o[flat: i]) * Double(r[flat: i]) }
            return s
        }
        return inputs.enumerated().map { k, x in
            let analytic = grads[vars[k]] ?? Tensor(zeros: x.shape)
            var indices = Array(0..<x.count)
            if indices.count > samples {
                indices.shuffle(using: &rng)
                indices = Array(indices.prefix(samples))
            }
            var diff: Double = 0, normA: Double = 0, normN: Double = 0
            var worst = (index: 0, a: 0.0, n: 0.0)
            for i in indices {
                var plus = inputs, minus = inputs
                plus[k].withMutableData { $0[i] += h }
                minus[k].withMutableData { $0[i] -= h }
                let numeric = (evaluate(plus) - evaluate(minus)) / (2 * Double(h))
                let a = Double(analytic[flat: i])
                diff += (a - numeric) * (a - numeric)
                normA += a * a
                normN += numeric * numeric
                if abs(a - numeric) >= abs(worst.a - worst.n) { worst = (i, a, numeric) }
            }
            let rel = diff.squareRoot() / max(normA.squareRoot(), normN.squareRoot(), 1e-12)
            return Result(input: k, relativeError: rel, worstIndex: worst.index, worstAnalytic: worst.a, worstNumeric: worst.n)
        }
    }

    /// A seeded normal tensor (test inputs).
    public static func random(_ shape: [Int], std: Float = 1, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape, std: std, using: &rng)
    }
}
