/// Activations with their paired derivative kernels (Activations.swift).
extension Variable {
    public func activation(_ kind: Activation) -> Variable {
        let x = value
        let out = x.copy()
        kind.apply(out.mutableData, count: out.count)
        return unary(kind.rawValue, out) { g in
            let dx = Tensor(uninitialized: x.shape)
            kind.backward(x: x.data, dy: g.data, dx: dx.mutableData, count: x.count)
            return dx
        }
    }

    /// x · σ(1.702 x).
    public func quickGELU() -> Variable { activation(.quickGELU) }

    /// x · Φ(x) (exact, erf).
    public func gelu() -> Variable { activation(.gelu) }
}
