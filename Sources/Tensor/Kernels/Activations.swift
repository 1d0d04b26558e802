/// Activation functions, applied in place over `count` floats.
public enum Activation: String, Codable, Sendable, CaseIterable {
    /// x * sigmoid(1.702 x): OpenAI CLIP's activation.
    case quickGELU = "quick-gelu"
    /// Exact GELU, x * Phi(x) with erf (torch.nn.GELU default): most OpenCLIP-trained models.
    case gelu

    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
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

    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752
        var i = 0
        while i + 8 <= count {
            let v = loadVec(x + i)
            storeVec(0.5 * v * FastMath.onePlusErf(v * invSqrt2), x + i)
            i += 8
        }
        while i < count {
            let v = x[i]
            x[i] = 0.5 * v * FastMath.onePlusErf(FastMath.Vec(repeating: v * invSqrt2))[0]
            i += 1
        }
    }
}
