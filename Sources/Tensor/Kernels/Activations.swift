/// Activation functions, applied in place over `count` floats.
public enum Activation: String, Codable, Sendable, CaseIterable {
    /// x * sigmoid(1.702 x): OpenAI CLIP's activation.
    case quickGELU = "quick-gelu"
    /// Exact GELU, x * Phi(x) with erf (torch.nn.GELU default): most OpenCLIP-trained models.
    case gelu

    /// Split across cores: the MLP hidden state is the largest activation of a forward pass.
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.ranges(count) { range in applyInline(x + range.lowerBound, count: range.count) }
    }

    /// act(x + bias) in place over `rows` rows of `width`: the MLP's c_fc bias added in the activation's pass (the
    /// row is still in L1 for the activation) instead of a separate broadcast copy before the GEMM.
    public func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>) {
        Parallel.rows(rows, width: width) { part in
            for r in part {
                let row = x + r * width
                for j in 0..<width { row[j] += bias[j] }
                applyInline(row, count: width)
            }
        }
    }

    private func applyInline(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .quickGELU: Activations.quickGELU(x, count: count)
        case .gelu: Activations.gelu(x, count: count)
        }
    }
}

public enum Activations {
    public static func quickGELU(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = loadVec(x + i)
            storeVec(v * FastMath.sigmoid(v * 1.702), x + i)
            i += 8
        }
        while i < count {
            let v = x[i]
            x[i] = v * FastMath.sigmoid(FastMath.Vec(repeating: v * 1.702))[0]
            i += 1
        }
    }

    /// x·Φ(x) = x·(1 + erf(x/√2))/2 with the rational erf (the MLP activation of most OpenCLIP models: ~4% of a
    /// ViT forward with the exp-based erf).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752
        var i = 0
        while i + 8 <= count {
            let v = loadVec(x + i)
            storeVec(0.5 * v * (1 + FastMath.erfRational(v * invSqrt2)), x + i)
            i += 8
        }
        while i < count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + FastMath.erfRational(FastMath.Vec(repeating: v * invSqrt2))[0])
            i += 1
        }
    }
}

extension Activation {
    /// dx = dy · act'(x) over `count` floats (x is the activation's INPUT). dx may alias dy.
    public func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .quickGELU: Activations.quickGELUBackward(x: x, dy: dy, dx: dx, count: count)
        case .gelu: Activations.geluBackward(x: x, dy: dy, dx: dx, count: count)
        }
    }
}

extension Activations {
    /// d/dx x·σ(1.702x) = σ + 1.702·x·σ·(1-σ).
    public static func quickGELUBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = loadVec(x + i)
            let s = FastMath.sigmoid(v * 1.702)
            storeVec(loadVec(dy + i) * (s + 1.702 * v * s * (1 - s)), dx + i)
            i += 8
        }
        while i < count {
            let v = x[i]
            let s = FastMath.sigmoid(FastMath.Vec(repeating: v * 1.702))[0]
            dx[i] = dy[i] * (s + 1.702 * v * s * (1 - s))
            i += 1
        }
    }

    /// d/dx x·Φ(x) = Φ(x) + x·φ(x), φ(x) = exp(-x²/2)/√(2π).
    public static func geluBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752, invSqrt2Pi: Float = 0.39894228040143268
        var i = 0
        while i + 8 <= count {
            let v = loadVec(x + i)
            let phi = 0.5 * FastMath.onePlusErf(v * invSqrt2)
            let density = invSqrt2Pi * FastMath.exp(-0.5 * v * v)
            storeVec(loadVec(dy + i) * (phi + v * density), dx + i)
            i += 8
        }
        while i < count {
            let v = FastMath.Vec(repeating: x[i])
            let phi = 0.5 * FastMath.onePlusErf(v * invSqrt2)
            let density = invSqrt2Pi * FastMath.exp(-0.5 * v * v)
            dx[i] = dy[i] * (phi + v * density)[0]
            i += 1
        }
    }
}
