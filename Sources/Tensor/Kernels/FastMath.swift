/// Vectorised transcendental functions (8 lanes) for activation and softmax kernels.
///
/// `exp` follows the classic Cephes range reduction (x = n ln2 + r, |r| <= ln2/2) with a degree-6
/// polynomial: relative error about 2e-7 over the float range, far below the 1e-4 parity bar.
public enum FastMath {
    public typealias Vec = SIMD8<Float>

    @inline(__always)
    public static func exp(_ x: Vec) -> Vec {
        let clamped = x.clamped(lowerBound: Vec(repeating: -87.3), upperBound: Vec(repeating: 88.3))
        let log2e: Float = 1.44269504088896341
        let n = (clamped * log2e).rounded(.toNearestOrEven)
        // r = x - n*ln2 in two steps for accuracy.
        var r = clamped - n * 0.693359375
        r = r - n * (-2.12194440e-4)
        var p = Vec(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let r2 = r * r
        let y = p * r2 + r + 1
        // Scale by 2^n through the exponent bits.
        let bits = (SIMD8<Int32>(n) &+ 127) &<< 23
        let scale = unsafeBitCast(bits, to: Vec.self)
        var result = y * scale
        result.replace(with: Vec(repeating: 0), where: x .< -87.3)
        return result
    }

    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(Vec(repeating: x))[0] }

    /// erfc(|x|) via the Numerical Recipes rational approximation erfc(z) = t*exp(-z^2 + P(t)), t = 1/(1 + z/2),
    /// fractional error below 1.2e-7 everywhere (so also in the far tail, where 1 - erf would cancel).
    @inline(__always)
    public static func erfcOfAbs(_ x: Vec) -> Vec {
        let z = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.5 * z)
        var p = Vec(repeating: 0.17087277)
        p = p * t - 0.82215223
        p = p * t + 1.48851587
        p = p * t - 1.13520398
        p = p * t + 0.27886807
        p = p * t - 0.18628806
        p = p * t + 0.09678418
        p = p * t + 0.37409196
        p = p * t + 1.00002368
        p = p * t - 1.26551223
        return t * exp(-z * z + p)
    }

    @inline(__always)
    public static func erf(_ x: Vec) -> Vec {
        let e = 1 - erfcOfAbs(x)
        return e.replacing(with: -e, where: x .< 0)
    }

    /// 1 + erf(x), accurate for negative x too (GELU's Phi(x) = (1 + erf(x/sqrt 2)) / 2).
    @inline(__always)
    public static func onePlusErf(_ x: Vec) -> Vec {
        let c = erfcOfAbs(x)
        return (2 - c).replacing(with: c, where: x .< 0)
    }

    @inline(__always)
    public static func sigmoid(_ x: Vec) -> Vec { Vec(repeating: 1) / (Vec(repeating: 1) + exp(-x)) }
}

/// Loads/stores of 8-lane vectors from raw pointers (unaligned).
@inline(__always)
func loadVec(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func storeVec(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}
