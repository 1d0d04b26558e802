/// Multi-head scaled dot-product attention from a fused qkv projection (CLIP's `nn.MultiheadAttention`).
extension Variable {
    /// Heads' outputs before `out_proj` from packed qkv [B, T, 3W] -> [B, T, W]. The forward keeps each head's
    /// probabilities [B·heads, T, T] for `Attention.headBackward`.
    public func multiHeadAttention(heads: Int, causal: Bool) -> Variable {
        precondition(rank == 3 && shape[2] % (3 * heads) == 0, "multiHeadAttention: qkv \(shape), \(heads) heads")
        let b = shape[0], t = shape[1], w = shape[2] / 3, hd = w / heads
        let scale = 1 / Float(hd).squareRoot()
        let qkv = value
        let out = Tensor(uninitialized: [b, t, w])
        let probs = Tensor(uninitialized: [b * heads, t, t])
        let src = qkv.data, dst = out.mutableData, pp = probs.mutableData
        Parallel.forEach(b * heads) { job in
            let batch = job / heads, off = (job % heads) * hd
            let base = src + batch * t * 3 * w
            Attention.head(q: base + off, k: base + w + off, v: base + 2 * w + off, ldIn: 3 * w,
                           out: dst + batch * t * w + off, ldOut: w, tokens: t, headDim: hd, scale: scale,
                           causal: causal, scores: pp + job * t * t)
        }
        return unary("multi-head attention", out) { g in
            let dqkv = Tensor(uninitialized: qkv.shape)
            let gp = g.data, dp = dqkv.mutableData, src = qkv.data, pp = probs.data
            Parallel.forEachChunk(b * heads) { jobs in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: t * t)   // one per core, as the forward
                defer { scratch.deallocate() }
                for job in jobs {
                    let batch = job / heads, off = (job % heads) * hd
                    let base = src + batch * t * 3 * w, dbase = dp + batch * t * 3 * w
                    Attention.headBackward(q: base + off, k: base + w + off, v: base + 2 * w + off, ldIn: 3 * w,
                                           dOut: gp + batch * t * w + off, ldOut: w,
                                           dq: dbase + off, dk: dbase + w + off, dv: dbase + 2 * w + off,
                                           ldGrad: 3 * w, tokens: t, headDim: hd, scale: scale,
                                           probs: pp + job * t * t, scratch: scratch)
                }
            }
            return dqkv
        }
    }

    /// out_proj(attention(in_proj(x))) with frozen projections: x [B, T, W] -> [B, T, W].
    public func selfAttention(
        inProjWeight: LinearWeight, inProjBias: Tensor, outProjWeight: LinearWeight, outProjBias: Tensor, heads: Int,
        causal: Bool
    ) -> Variable {
        linear(inProjWeight, bias: inProjBias)
            .multiHeadAttention(heads: heads, causal: causal)
            .linear(outProjWeight, bias: outProjBias)
    }
}
