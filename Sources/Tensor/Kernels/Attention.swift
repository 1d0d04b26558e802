/// Scaled dot-product attention of one head on packed projections.
public enum Attention {
    /// out = softmax(scale · q kᵀ [+ causal mask]) · v for one head of one sequence.
    /// - q, k, v: [T, headDim] with row stride `ldIn` (column blocks of a fused qkv matrix).
    /// - out: [T, headDim] with row stride `ldOut`; scores: scratch of T*T floats (left holding the probabilities).
    public static func head(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldIn: Int,
        out: UnsafeMutablePointer<Float>, ldOut: Int,
        tokens t: Int, headDim: Int, scale: Float, causal: Bool, scores: UnsafeMutablePointer<Float>
    ) {
        BLAS.gemm(transB: true, m: t, n: t, k: headDim, alpha: scale, a: q, lda: ldIn, b: k, ldb: ldIn, c: scores, ldc: t)
        Softmax.rows(scores, rows: t, width: t, causal: causal)
        BLAS.gemm(m: t, n: headDim, k: t, a: scores, lda: t, b: v, ldb: ldIn, c: out, ldc: ldOut)
    }
}
