/// Layer norm over the last dimension with frozen gamma/beta (LayerNorm.forward / LayerNorm.backward).
extension Variable {
    public func layerNorm(gamma: Tensor, beta: Tensor, eps: Float = 1e-5) -> Variable {
        let x = value, w = shape[rank - 1], rows = count / max(w, 1)
        precondition(gamma.count == w && beta.count == w, "layerNorm: width \(w), gamma \(gamma.shape)")
        let out = Tensor(uninitialized: shape)
        let stats = Tensor(uninitialized: [2, rows])   // mean, rstd
        LayerNorm.forward(x: x.data, gamma: gamma.data, beta: beta.data, y: out.mutableData, rows: rows, width: w,
                          eps: eps, mean: stats.mutableData, rstd: stats.mutableData + rows)
        return unary("layer norm", out) { g in
            let dx = Tensor(uninitialized: x.shape)
            LayerNorm.backward(dy: g.data, x: x.data, gamma: gamma.data, mean: stats.data, rstd: stats.data + rows,
                               dx: dx.mutableData, rows: rows, width: w)
            return dx
        }
    }
}
