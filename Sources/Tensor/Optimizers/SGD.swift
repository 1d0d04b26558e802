/// SGD with momentum and weight decay, PyTorch's `torch.optim.SGD` semantics:
/// d = g + wd·p; buf = d on the first step, then μ·buf + (1-dampening)·d; d = buf (or d + μ·buf with Nesterov);
/// p ← p - lr·d.
public struct SGD {
    public var learningRate: Float
    public var momentum: Float
    public var dampening: Float
    public var weightDecay: Float
    public var nesterov: Bool

    private(set) var buffers: [String: Tensor] = [:]

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// One update of every parameter that has a gradient.
    public mutating func step(_ parameters: inout [String: Tensor], gradients: [String: Tensor]) {
        for name in parameters.keys.sorted() {
            guard let grad = gradients[name], var p = parameters[name] else { continue }
            precondition(grad.count == p.count, "SGD: gradient \(grad.shape) for parameter '\(name)' \(p.shape)")
            let (lr, mu, damp, wd, nesterov) = (learningRate, momentum, dampening, weightDecay, self.nesterov)
            let g = grad.data
            if mu == 0 {
                p.withMutableData { x in for i in 0..<x.count { x[i] -= lr * (g[i] + wd * x[i]) } }
            } else {
                let first = buffers[name] == nil
                var buf = buffers.removeValue(forKey: name) ?? Tensor(zeros: p.shape)
                buf.withMutableData { b in
                    p.withMutableData { x in
                        for i in 0..<x.count {
                            let d = wd == 0 ? g[i] : g[i] + wd * x[i]
                            b[i] = first ? d : mu * b[i] + (1 - damp) * d
                            x[i] -= lr * (nesterov ? d + mu * b[i] : b[i])
                        }
                    }
                }
                buffers[name] = buf
            }
            parameters[name] = p
        }
    }
}
