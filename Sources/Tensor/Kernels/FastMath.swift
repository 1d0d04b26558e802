/// Vectorised transcendental functions (8 lanes) for activation and softmax kernels.
///
/// `exp` follows the classic Cephes range reduction (x = n ln2 + r, |r| <= ln2/2) with a degree-6
/// polynomial: relative error about 2e-7 over the float range, far below the 1e-4 parity bar.
public enum FastMath {
    public typealias Vec = SIMD8<Float>

    /// a·b + c as one fused instruction (vfmadd). Swift does not contract `a * b + c` on its own, and the
    /// polynomials below are half their instructions otherwise.
    @inline(__always)
    static func fma(_ a: Vec, _ b: Vec, _ c: Vec) -> Vec { c.addingProduct(a, b) }

    @inline(__always)
    static func fma(_ a: Vec, _ b: Float, _ c: Vec) -> Vec { c.addingProduct(a, Vec(repeating: b)) }

    @inline(__always)
    static func fma(_ a: Vec, _ b: Vec, _ c: Float) -> Vec { Vec(repeating: c).addingProduct(a, b) }

    @inline(__always)
    public static func exp(_ x: Vec) -> Vec {
        // Clamp with blends (SIMD.clamped is not inlined and costs a call per vector).
        let low = Vec(repeating: -87.3), high = Vec(repeating: 88.3)
        var result = expInRange(x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high))
        result.replace(with: Vec(repeating: 0), where: x .< -87.3)
        return result
    }

    /// exp(x) for x <= 0 (softmax after subtracting the row maximum): one clamp instead of two, and inputs below
    /// -87.3 give exp(-87.3) ≈ 1e-38 instead of exactly 0, which no sum of at least 1 can tell apart.
    @inline(__always)
    public static func expOfNonPositive(_ x: Vec) -> Vec {
        let low = Vec(repeating: -87.3)
        return expInRange(x.replacing(with: low, where: x .< low))
    }

    /// exp on inputs already clamped to [-87.3, 88.3].
    @inline(__always)
    static func expInRange(_ clamped: Vec) -> Vec {
        let log2e: Float = 1.44269504088896341
        // Round to nearest with the 1.5·2^23 trick: vectorises, unlike SIMD rounding/conversion calls.
        let magic = Vec(repeating: 12582912)
        let shifted = fma(clamped, log2e, magic)
        let n = shifted - magic
        // r = x - n*ln2 in two steps for accuracy.
        var r = fma(n, -0.693359375, clamped)
        r = fma(n, 2.12194440e-4, r)
        var p = Vec(repeating: 1.9875691500e-4)
        p = fma(p, r, 1.3981999507e-3)
        p = fma(p, r, 8.3334519073e-3)
        p = fma(p, r, 4.1665795894e-2)
        p = fma(p, r, 1.6666665459e-1)
        p = fma(p, r, 5.0000001201e-1)
        let y = fma(p, r * r, r) + 1
        // 2^n from the integer sitting in the low mantissa bits of `shifted`.
        let integer = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Vec.self)
        return y * scale
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
        p = fma(p, t, -0.82215223)
        p = fma(p, t, 1.48851587)
        p = fma(p, t, -1.13520398)
        p = fma(p, t, 0.27886807)
        p = fma(p, t, -0.18628806)
        p = fma(p, t, 0.09678418)
        p = fma(p, t, 0.37409196)
        p = fma(p, t, 1.00002368)
        p = fma(p, t, -1.26551223)
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

    /// erf(x) as an odd rational function (numerator x·P(x²), P of degree 6; denominator Q(x²), Q of degree 4) on x
    /// clamped to [-4, 4], beyond which float erf is ±1: no exp, one division, about half the cost of `onePlusErf`.
    /// Absolute error below 5e-7; a GELU from it is within 8e-7 of the exact one (PyTorch's own CPU GELU: 1.2e-6).
    /// Coefficients: Eigen's fast float erf (a published minimax fit).
    @inline(__always)
    public static func erfRational(_ x: Vec) -> Vec {
        let low = Vec(repeating: -4), high = Vec(repeating: 4)
        let c = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
        let c2 = c * c
        var p = Vec(repeating: -2.72614225801306e-10)
        p = fma(p, c2, 2.77068142495902e-08)
        p = fma(p, c2, -2.10102402082508e-06)
        p = fma(p, c2, -5.69250639462346e-05)
        p = fma(p, c2, -7.34990630326855e-04)
        p = fma(p, c2, -2.95459980854025e-03)
        p = fma(p, c2, -1.60960333262415e-02)
        var q = Vec(repeating: -1.45660718464996e-05)
        q = fma(q, c2, -2.13374055278905e-04)
        q = fma(q, c2, -1.68282697438203e-03)
        q = fma(q, c2, -7.37332916720468e-03)
        q = fma(q, c2, -1.42647390514189e-02)
        return c * p / q
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
