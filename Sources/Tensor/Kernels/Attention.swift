/// Scaled dot-product attention of one head on packed projections.
public enum Attention {
    /// out = softmax(scale · q kᵀ [+ causal mask]) · v for one head of one sequence.
    /// - q, k, v: [T, headDim] with row stride `ldIn` (column blocks of a fused qkv matrix).
    /// - queries: only the first `queries` rows of q (default all T); out then has that many rows.
    /// - out: [queries, headDim] with row stride `ldOut`; scores: scratch of queries*T floats.
    /// - keepProbabilities: leave the softmax probabilities in `scores` (the backward pass needs them). Without it
    ///   the scores stay unnormalised exponentials and each output row is divided by its sum after the second GEMM,
    ///   a pass over T·headDim values instead of T·T.
    public static func head(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldIn: Int,
        out: UnsafeMutablePointer<Float>, ldOut: Int,
        tokens t: Int, headDim: Int, scale: Float, causal: Bool, scores: UnsafeMutablePointer<Float>,
        keepProbabilities: Bool = true, queries: Int? = nil
    ) {
        let rows = queries ?? t
        BLAS.gemm(transB: true, m: rows, n: t, k: headDim, alpha: scale, a: q, lda: ldIn, b: k, ldb: ldIn, c: scores, ldc: t)
        if keepProbabilities {
            Softmax.rows(scores, rows: rows, width: t, causal: causal)
            BLAS.gemm(m: rows, n: headDim, k: t, a: scores, lda: t, b: v, ldb: ldIn, c: out, ldc: ldOut)
            return
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rows) { inverseSums in
            Softmax.exponentiateRows(scores, rows: rows, width: t, causal: causal) { r, sum in inverseSums[r] = 1 / sum }
            BLAS.gemm(m: rows, n: headDim, k: t, a: scores, lda: t, b: v, ldb: ldIn, c: out, ldc: ldOut)
            for r in 0..<rows {
                let row = out + r * ldOut, inv = inverseSums[r]
                for j in 0..<headDim { row[j] *= inv }
            }
        }
    }
}

extension Attention {
    /// Backward of `head` given the probabilities it left in `scores` ([T, T]) and dOut ([T, headDim], stride ldOut):
    /// dV = Pᵀ·dOut, dP = dOut·Vᵀ, dS = scale · softmax'(dP), dQ = dS·K, dK = dSᵀ·Q.
    /// dq, dk, dv: [T, headDim] with row stride `ldGrad` (column blocks of a fused dqkv matrix), written, not
    /// accumulated. `scratch`: T*T floats.
    public static func headBackward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldIn: Int,
        dOut: UnsafePointer<Float>, ldOut: Int,
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, ldGrad: Int,
        tokens t: Int, headDim: Int, scale: Float, probs: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        BLAS.gemm(transA: true, m: t, n: headDim, k: t, a: probs, lda: t, b: dOut, ldb: ldOut, c: dv, ldc: ldGrad)
        BLAS.gemm(transB: true, m: t, n: t, k: headDim, a: dOut, lda: ldOut, b: v, ldb: ldIn, c: scratch, ldc: t)
        Softmax.rowsBackward(probs: probs, dProbs: scratch, dx: scratch, rows: t, width: t)
        BLAS.gemm(m: t, n: headDim, k: t, alpha: scale, a: scratch, lda: t, b: k, ldb: ldIn, c: dq, ldc: ldGrad)
        BLAS.gemm(transA: true, m: t, n: headDim, k: t, alpha: scale, a: scratch, lda: t, b: q, ldb: ldIn, c: dk, ldc: ldGrad)
    }
}
