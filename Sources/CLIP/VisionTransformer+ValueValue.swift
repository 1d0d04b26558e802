import Tensor

/// The dual-path vision forward of CLIP Surgery / AnomalyCLIP's DPAM: from a chosen block on, every block also
/// runs a V-V attention path (scores from v·vᵀ) next to the unchanged original path.
///
/// Facts from the official AnomalyCLIP code (`AnomalyCLIP_lib/AnomalyCLIP.py`, `ResidualAttentionBlock.forward`):
/// both paths take q/k/v from ln_1 of the ORIGINAL path; the V-V path adds only its attention output (after the shared
/// out_proj) to its own residual, with no MLP; the first dual block starts the V-V path from that block's input.
extension VisionTransformer {
    public struct DualPathOutput: Sendable {
        /// Outputs of the requested blocks (1-based) on the original path, [B, T, W].
        public var originalTokens: [Int: Tensor]
        /// Outputs of the requested blocks on the V-V path (only blocks that run it), [B, T, W].
        public var valueValueTokens: [Int: Tensor]
        /// Original-path state after the attention residual and before the MLP of the requested blocks, [B, T, W]
        /// (PromptAD's memory-bank features, see `postAttentionLayers`).
        public var postAttentionTokens: [Int: Tensor]
        /// Last block's output on the original path, [B, T, W].
        public var finalOriginal: Tensor
    }

    /// - firstDualBlock: 1-based index of the first block running both paths (AnomalyCLIP: layers - 18, i.e. the last 19 blocks).
    /// - valueValueMLP: also run ln_2 + MLP on the V-V path (off for AnomalyCLIP).
    /// - postAttentionLayers: blocks (1-based) whose original-path state x + attn(ln_1(x)), before the MLP, is kept.
    /// - finalClassTokenOnly: when the last block runs both paths, run its original path for the class token alone
    ///   (AnomalyCLIP needs nothing else of it: the global feature). Exact — that token still attends to all tokens —
    ///   and it saves the last block's out_proj and MLP on every patch token (~2.5% of ViT-L/14@518). `finalOriginal`
    ///   is then [B, 1, W] and the last layer gets no `originalTokens` entry.
    public func forwardDualPath(_ images: Tensor, firstDualBlock: Int, outputLayers: Set<Int>,
                                valueValueMLP: Bool = false, postAttentionLayers: Set<Int> = [],
                                finalClassTokenOnly: Bool = false) -> DualPathOutput {
        var x = embed(images)
        var vv: Tensor? = nil
        var original: [Int: Tensor] = [:], valueValue: [Int: Tensor] = [:], postAttention: [Int: Tensor] = [:]
        for (i, block) in blocks.enumerated() {
            let layer = i + 1
            let classTokenOnly = finalClassTokenOnly && layer == blocks.count && layer >= firstDualBlock
            if layer < firstDualBlock && postAttentionLayers.contains(layer) {
                x = block.attentionResidual(x, causal: false)
                postAttention[layer] = x
                x = block.mlpResidual(x)
            } else if layer < firstDualBlock {
                x = block.forward(x, causal: false)
            } else {
                let y = x.layerNorm(gamma: block.ln1Weight, beta: block.ln1Bias)
                let qkv = y.linear(block.inProjWeight, bias: block.inProjBias)   // one GEMM for both paths
                let attention = block.attentionFromQKV(qkv, causal: false, paths: [
                    .init(valueValue: true), .init(valueValue: false, queries: classTokenOnly ? 1 : nil),
                ])
                var path = attention[0].linear(block.outProjWeight, bias: block.outProjBias, addingTo: vv ?? x)
                if valueValueMLP { path = block.mlpResidual(path) }
                vv = path
                x = attention[1].linear(block.outProjWeight, bias: block.outProjBias,
                                        addingTo: classTokenOnly ? Self.classTokens(of: x) : x)
                if postAttentionLayers.contains(layer) { postAttention[layer] = x }
                x = block.mlpResidual(x)
            }
            if outputLayers.contains(layer) {
                if !classTokenOnly { original[layer] = x }
                if let vv { valueValue[layer] = vv }
            }
        }
        return DualPathOutput(originalTokens: original, valueValueTokens: valueValue, postAttentionTokens: postAttention,
                              finalOriginal: x)
    }

    /// The class token of [B, T, W] tokens times proj, WITHOUT ln_post (AnomalyCLIP's global image feature).
    public func projectClassTokenWithoutLayerNorm(_ x: Tensor) -> Tensor {
        Self.classTokens(of: x).reshaped([x.shape[0], width]).matmul(projection)
    }

    /// [B, T, W] -> [B, 1, W]: each image's first (class) token.
    static func classTokens(of x: Tensor) -> Tensor {
        let b = x.shape[0]
        return Tensor.concatenate((0..<b).map { x[$0].slice(rows: 0..<1) }).reshaped([b, 1, x.shape[2]])
    }
}
