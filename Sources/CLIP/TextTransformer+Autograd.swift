import Tensor

/// A differentiable text-tower forward for prompt learning: the frozen CLIP weights enter as constants (no weight
/// gradients), gradients flow to the input embeddings and to deep prompts.
extension TextTransformer {
    /// encode_text from token EMBEDDINGS [B, L, W] on `tape`: unnormalised [B, E], as `forward(embeddings:ids:hook:)`.
    /// `deepPrompts`: block index (0-based) -> [n, W] vectors written over positions 1...n of every sequence
    /// before that block runs (AnomalyCLIP's text deep prompts); their gradients are the overwritten positions'.
    public func forward(embeddings: Variable, ids: [[Int]], deepPrompts: [Int: Variable]?, tape: Tape) -> Variable {
        let b = embeddings.shape[0], l = embeddings.shape[1]
        precondition(l <= contextLength && ids.count == b, "text: embeddings \(embeddings.shape), \(ids.count) id rows")
        var x = embeddings + positionalEmbedding.slice(rows: 0..<l)
        for (i, block) in blocks.enumerated() {
            if let prompt = deepPrompts?[i] { x = x.overwritingRows(start: 1, with: prompt) }
            x = block.forward(x, causal: true)
        }
        let eot = ids.enumerated().map { s, row in s * l + TextTransformer.endOfTextPosition(row) }
        return x.reshaped([b * l, width]).gatherRows(eot)
            .layerNorm(gamma: lnFinalWeight, beta: lnFinalBias)
            .matmul(projection)
    }
}

extension TransformerBlock {
    /// Differentiable block forward with frozen weights: x + attn(ln_1(x)), then + mlp(ln_2(·)).
    public func forward(_ x: Variable, causal: Bool) -> Variable {
        let h = x + x.layerNorm(gamma: ln1Weight, beta: ln1Bias)
            .selfAttention(inProjWeight: inProjWeight, inProjBias: inProjBias, outProjWeight: outProjWeight,
                           outProjBias: outProjBias, heads: heads, causal: causal)
        return h + h.layerNorm(gamma: ln2Weight, beta: ln2Bias)
            .linear(fcWeight, bias: fcBias)
            .activation(activation)
            .linear(projWeight, bias: projBias)
    }
}
