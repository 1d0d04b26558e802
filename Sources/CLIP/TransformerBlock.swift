import Tensor

/// Weights of one residual attention block, named as in OpenAI/OpenCLIP checkpoints
/// (`<prefix>.ln_1`, `.attn.in_proj_weight`, `.attn.out_proj`, `.ln_2`, `.mlp.c_fc`, `.mlp.c_proj`).
/// The four linear weights are held input-major (`LinearWeight`, [in, out]), transposed once at load.
public struct TransformerBlock: Sendable {
    public var ln1Weight: Tensor, ln1Bias: Tensor                // ln_1.weight / ln_1.bias
    public var inProjWeight: LinearWeight, inProjBias: Tensor    // attn.in_proj_weight [3W, W] / attn.in_proj_bias
    public var outProjWeight: LinearWeight, outProjBias: Tensor  // attn.out_proj.weight [W, W] / .bias
    public var ln2Weight: Tensor, ln2Bias: Tensor                // ln_2.weight / ln_2.bias
    public var fcWeight: LinearWeight, fcBias: Tensor            // mlp.c_fc.weight [M, W] / .bias
    public var projWeight: LinearWeight, projBias: Tensor        // mlp.c_proj.weight [W, M] / .bias

    public let heads: Int
    public let activation: Activation

    public var width: Int { ln1Weight.count }
    public var headDim: Int { width / heads }

    /// The state-dict key suffixes of a block, in one place for loading and strict key checks.
    public static let keySuffixes = [
        "ln_1.weight", "ln_1.bias", "attn.in_proj_weight", "attn.in_proj_bias",
        "attn.out_proj.weight", "attn.out_proj.bias", "ln_2.weight", "ln_2.bias",
        "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
    ]

    /// Reads one block of a `width`-wide tower, checking every tensor's shape ("got [...], expected [...]").
    init(weights: WeightSource, prefix: String, width: Int, heads: Int, activation: Activation) throws {
        // Attention splits the width into equal heads; a remainder would leave output columns unwritten.
        guard heads >= 1, width % heads == 0 else {
            throw CLIPLoadError.badConfig(file: weights.file, reason: "\(prefix): width \(width) is not divisible into \(heads) attention heads")
        }
        func w(_ s: String, _ shape: [Int]) throws -> Tensor { try weights.tensor("\(prefix).\(s)", shape: shape) }
        func linear(_ s: String, _ shape: [Int]) throws -> LinearWeight {
            try weights.linearWeight("\(prefix).\(s)", shape: shape)
        }
        // The MLP width is the one size the block itself decides: c_fc.weight [M, W] with M >= 1.
        let fcShape = try weights.tensor("\(prefix).mlp.c_fc.weight").shape
        let hidden = fcShape.count == 2 && fcShape[0] >= 1 ? fcShape[0] : 4 * width
        ln1Weight = try w("ln_1.weight", [width]); ln1Bias = try w("ln_1.bias", [width])
        inProjWeight = try linear("attn.in_proj_weight", [3 * width, width]); inProjBias = try w("attn.in_proj_bias", [3 * width])
        outProjWeight = try linear("attn.out_proj.weight", [width, width]); outProjBias = try w("attn.out_proj.bias", [width])
        ln2Weight = try w("ln_2.weight", [width]); ln2Bias = try w("ln_2.bias", [width])
        fcWeight = try linear("mlp.c_fc.weight", [hidden, width]); fcBias = try w("mlp.c_fc.bias", [hidden])
        projWeight = try linear("mlp.c_proj.weight", [width, hidden]); projBias = try w("mlp.c_proj.bias", [width])
        self.heads = heads
        self.activation = activation
    }

    // MARK: - Forward

    /// x: [B, T, W] -> [B, T, W]: x + attn(ln_1(x)); then + mlp(ln_2(x)).
    public func forward(_ x: Tensor, causal: Bool) -> Tensor {
        let h = attentionResidual(x, causal: causal)
        return mlpResidual(h)
    }

    /// x + attn(ln_1(x)), the GEMM of out_proj accumulating onto x.
    public func attentionResidual(_ x: Tensor, causal: Bool) -> Tensor {
        let qkv = x.layerNorm(gamma: ln1Weight, beta: ln1Bias).linear(inProjWeight, bias: inProjBias)
        return attentionFromQKV(qkv, causal: causal, valueValue: false)
            .linear(outProjWeight, bias: outProjBias, addingTo: x)
    }

    /// h + mlp(ln_2(h)), the GEMM of c_proj accumulating onto h.
    public func mlpResidual(_ h: Tensor) -> Tensor {
        let hidden = h.layerNorm(gamma: ln2Weight, beta: ln2Bias).linear(fcWeight)
        activation.apply(hidden.mutableData, rows: hidden.count / fcBias.count, width: fcBias.count, bias: fcBias.data)
        return hidden.linear(projWeight, bias: projBias, addingTo: h)
    }

    /// Heads' attention outputs before `out_proj`, from packed qkv [B, T, 3W]: [B, queries, W].
    /// With `valueValue` the scores are v·vᵀ (the V-V attention of CLIP Surgery / AnomalyCLIP's DPAM).
    /// `queries` limits the output to the first rows (1: the class token alone); all T tokens are still attended to.
    public func attentionFromQKV(_ qkv: Tensor, causal: Bool, valueValue: Bool, queries: Int? = nil) -> Tensor {
        attentionFromQKV(qkv, causal: causal, paths: [AttentionPath(valueValue: valueValue, queries: queries)])[0]
    }

    /// One attention variant on packed qkv: where its scores come from and how many query rows it keeps.
    public struct AttentionPath: Sendable {
        public var valueValue: Bool
        public var queries: Int?
        public init(valueValue: Bool, queries: Int? = nil) { self.valueValue = valueValue; self.queries = queries }
    }

    /// Several attention variants of the same qkv (DPAM's original and V-V paths) in one parallel pass over
    /// paths x images x heads, so the cores meet once per block instead of once per path.
    public func attentionFromQKV(_ qkv: Tensor, causal: Bool, paths: [AttentionPath]) -> [Tensor] {
        let b = qkv.shape[0], t = qkv.shape[1], w = width, hd = headDim
        let rows = paths.map { $0.queries ?? t }
        let outs = rows.map { Tensor(uninitialized: [b, $0, w]) }
        let destinations = outs.map { $0.mutableData }
        let scale = 1 / Float(hd).squareRoot()
        let src = qkv.data
        let heads = self.heads
        Parallel.forEachChunk(paths.count * b * heads) { jobs in
            // One score buffer per core (T*T floats: 7.5 MB at ViT-L@518), not one per head.
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: (rows.max() ?? 0) * t)
            defer { scores.deallocate() }
            for job in jobs {
                // Paths vary fastest, so each core gets every path of its heads (balanced when one path is short).
                let path = job % paths.count, head = job / paths.count % heads, batch = job / (paths.count * heads)
                let base = src + batch * t * 3 * w
                let v = base + 2 * w
                let valueValue = paths[path].valueValue
                let q = valueValue ? v : base, k = valueValue ? v : base + w
                let off = head * hd
                Attention.head(q: q + off, k: k + off, v: v + off, ldIn: 3 * w,
                               out: destinations[path] + batch * rows[path] * w + off, ldOut: w, tokens: t, headDim: hd,
                               scale: scale, causal: causal, scores: scores, keepProbabilities: false,
                               queries: rows[path])
            }
        }
        return outs
    }
}
