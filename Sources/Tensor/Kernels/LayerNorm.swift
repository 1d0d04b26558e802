/// Layer normalisation over the last dimension.
public enum LayerNorm {
    /// y[r, :] = (x[r, :] - mean) * rstd * gamma + beta for each of `rows` rows of width `width`.
    /// Writes mean and rstd per row when asked (the backward pass needs them). `y` may alias `x`.
    /// Rows are split across cores; each row is two passes (mean, then squared deviations) in 8 float lanes.
    public static func forward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, rows: Int, width: Int, eps: Float = 1e-5,
        mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil
    ) {
        Parallel.rows(rows, width: width) { part in
            for r in part {
                let xr = x + r * width, yr = y + r * width
                let m = sum(xr, width) { $0 } / Float(width)
                let variance = sum(xr, width) { ($0 - m) * ($0 - m) } / Float(width)
                let s = 1 / (variance + eps).squareRoot()
                for i in 0..<width { yr[i] = (xr[i] - m) * s * gamma[i] + beta[i] }
                mean?[r] = m
                rstd?[r] = s
            }
        }
    }

    /// Σ f(x[i]) over `count` floats, accumulated in 8 lanes (a plain float loop is not vectorised: no reassociation).
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ count: Int, _ f: (FastMath.Vec) -> FastMath.Vec) -> Float {
        var lanes = FastMath.Vec(repeating: 0)
        var i = 0
        while i + 8 <= count {
            lanes += f(loadVec(x + i))
            i += 8
        }
        var total = lanes.sum()
        while i < count {
            total += f(FastMath.Vec(repeating: x[i]))[0]
            i += 1
        }
        return total
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
