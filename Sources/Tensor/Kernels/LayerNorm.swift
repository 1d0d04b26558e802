/// Layer normalisation over the last dimension.
public enum LayerNorm {
    /// y[r, :] = (x[r, :] - mean) * rstd * gamma + beta for each of `rows` rows of width `width`.
    /// Writes mean and rstd per row when asked (the backward pass needs them). `y` may alias `x`.
    public static func forward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, rows: Int, width: Int, eps: Float = 1e-5,
        mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil
    ) {
        for r in 0..<rows {
            let xr = x + r * width, yr = y + r * width
            // Two-pass mean/variance in double for robustness on large widths.
            var sum: Double = 0
            for i in 0..<width { sum += Double(xr[i]) }
            let mu = sum / Double(width)
            var sq: Double = 0
            for i in 0..<width { let d = Double(xr[i]) - mu; sq += d * d }
            let inv = 1 / (sq / Double(width) + Double(eps)).squareRoot()
            let m = Float(mu), s = Float(inv)
            for i in 0..<width { yr[i] = (xr[i] - m) * s * gamma[i] + beta[i] }
            mean?[r] = m
            rstd?[r] = s
        }
    }
}

extension Tensor {
    /// Layer norm over the last dimension with weight `gamma` and bias `beta`.
    public func layerNorm(gamma: Tensor, beta: Tensor, eps: Float = 1e-5) -> Tensor {
        let w = shape[shape.count - 1]
        precondition(gamma.count == w && beta.count == w, "layerNorm: width \(w), gamma \(gamma.shape)")
        let out = Tensor(uninitialized: shape)
        LayerNorm.forward(x: data, gamma: gamma.data, beta: beta.data, y: out.mutableData,
                          rows: count / max(w, 1), width: w, eps: eps)
        return out
    }
}

extension LayerNorm {
    /// Backward of `forward` with constant gamma/beta (no weight gradients): x, dy, dx: [rows, width];
    /// mean, rstd: [rows] as `forward` wrote them. dx = rstd · (g - mean(g) - x̂ · mean(g · x̂)) with g = dy · gamma.
    /// Writes (does not accumulate into) dx; dx may alias dy.
    public static func backward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, rows: Int, width: Int
    ) {
        let n = Float(width)
        for r in 0..<rows {
            let xr = x + r * width, dyr = dy + r * width, dxr = dx + r * width
            let m = mean[r], s = rstd[r]
            var sumG: Float = 0, sumGX: Float = 0
            for i in 0..<width {
                let g = dyr[i] * gamma[i]
                sumG += g
                sumGX += g * (xr[i] - m) * s
            }
            let meanG = sumG / n, meanGX = sumGX / n
            for i in 0..<width {
                let xhat = (xr[i] - m) * s
                dxr[i] = s * (dyr[i] * gamma[i] - meanG - xhat * meanGX)
            }
        }
    }
}
