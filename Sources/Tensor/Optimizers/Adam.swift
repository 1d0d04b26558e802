/// Adam over named parameter tensors with PyTorch's `torch.optim.Adam` semantics (single-tensor path):
/// g += wd·p (L2, not decoupled); m ← m + (1-β1)(g - m); v ← β2·v + (1-β2)·g²;
/// p ← p - lr/(1-β1ᵗ) · m / (√v / √(1-β2ᵗ) + eps), with a step count per parameter.
public struct Adam {
    public var learningRate: Float
    public var beta1: Float, beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    struct Moments { var step: Int; var m: Tensor; var v: Tensor }
    private(set) var state: [String: Moments] = [:]

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Steps taken for `name` so far.
    public func steps(of name: String) -> Int { state[name]?.step ?? 0 }

    /// One update of every parameter that has a gradient (others are left alone, as PyTorch skips `grad is None`).
    public mutating func step(_ parameters: inout [String: Tensor], gradients: [String: Tensor]) {
        for name in parameters.keys.sorted() {
            guard let grad = gradients[name], var p = parameters[name] else { continue }
            precondition(grad.count == p.count, "Adam: gradient \(grad.shape) for parameter '\(name)' \(p.shape)")
            var s = state[name] ?? Moments(step: 0, m: Tensor(zeros: p.shape), v: Tensor(zeros: p.shape))
            state[name] = nil   // keep the moments uniquely referenced: updated in place
            s.step += 1
            let t = Double(s.step)
            let stepSize = Float(Double(learningRate) / (1 - _powDouble(Double(beta1), t)))
            let correction2Root = Float((1 - _powDouble(Double(beta2), t)).squareRoot())
            let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
            let g = grad.data
            s.m.withMutableData { m in
                s.v.withMutableData { v in
                    p.withMutableData { x in
                        for i in 0..<x.count {
                            let gi = wd == 0 ? g[i] : g[i] + wd * x[i]
                            m[i] += (1 - b1) * (gi - m[i])
                            v[i] = b2 * v[i] + (1 - b2) * gi * gi
                            x[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + eps)
                        }
                    }
                }
            }
            state[name] = s
            parameters[name] = p
        }
    }
}

extension Adam {
    /// The moments as named tensors (`<name>.m`, `<name>.v`, `<name>.step`) for checkpoints, so training resumes exactly.
    public func exportState() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, s) in state {
            out["\(name).m"] = s.m
            out["\(name).v"] = s.v
            out["\(name).step"] = Tensor(shape: [1], scalars: [Float(s.step)])
        }
        return out
    }

    /// Restores moments written by `exportState()`.
    public mutating func importState(_ tensors: [String: Tensor]) {
        for (key, stepTensor) in tensors where key.hasSuffix(".step") {
            let name = String(key.dropLast(5))
            guard let m = tensors["\(name).m"], let v = tensors["\(name).v"] else { continue }
            state[name] = Moments(step: Int(stepTensor[flat: 0]), m: m.copy(), v: v.copy())
        }
    }
}
