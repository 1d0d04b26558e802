import Tensor

/// The CLIP text tower: keys `token_embedding`, `positional_embedding`, `transformer.resblocks.N`,
/// `ln_final`, `text_projection` at the top level of OpenAI/OpenCLIP checkpoints.
public struct TextTransformer: Sendable {
    public let tokenEmbedding: Tensor       // token_embedding.weight [V, W]
    public let positionalEmbedding: Tensor  // positional_embedding [L, W]
    public let blocks: [TransformerBlock]   // transformer.resblocks.N (causal)
    public let lnFinalWeight: Tensor, lnFinalBias: Tensor  // ln_final
    public let projection: Tensor           // text_projection [W, E]

    public var width: Int { tokenEmbedding.shape[1] }
    public var vocabularySize: Int { tokenEmbedding.shape[0] }
    public var contextLength: Int { positionalEmbedding.shape[0] }
    public var outputDim: Int { projection.shape[1] }
    public var layers: Int { blocks.count }

    /// Called before block `layer` (0-based) runs with the hidden states [B, L, W]; may overwrite rows
    /// (AnomalyCLIP's deep prompts replace the tokens right after SOT in layers 1...8).
    public typealias LayerHook = (_ layer: Int, _ hidden: inout Tensor) -> Void

    init(weights: WeightSource, activation: Activation) throws {
        tokenEmbedding = try weights.tensor("token_embedding.weight")
        guard tokenEmbedding.rank == 2, tokenEmbedding.shape[0] >= 1, tokenEmbedding.shape[1] >= 1 else {
            throw CLIPLoadError.wrongShape(file: weights.file, key: "token_embedding.weight", got: tokenEmbedding.shape, expected: [49408, 512])
        }
        let width = tokenEmbedding.shape[1]
        positionalEmbedding = try weights.tensor("positional_embedding")
        // At least the start and end-of-text tokens; every text run through the tower is checked against it.
        let rows = positionalEmbedding.rank == 2 ? max(positionalEmbedding.shape[0], 2) : 77
        try weights.expect("positional_embedding", positionalEmbedding, [rows, width])
        let count = CLIPArchitecture.countBlocks(in: weights.keys, prefix: "transformer.resblocks.")
        guard count > 0 else { throw CLIPLoadError.missingKey(file: weights.file, key: "transformer.resblocks.0.ln_1.weight") }
        let heads = CLIPArchitecture.heads(forWidth: width)
        blocks = try (0..<count).map {
            try TransformerBlock(weights: weights, prefix: "transformer.resblocks.\($0)", width: width, heads: heads, activation: activation)
        }
        lnFinalWeight = try weights.tensor("ln_final.weight", shape: [width])
        lnFinalBias = try weights.tensor("ln_final.bias", shape: [width])
        projection = try weights.tensor("text_projection")
        try weights.expect("text_projection", projection, [width, projection.rank == 2 ? max(projection.shape[1], 1) : 512])
    }

    // MARK: - Input checks

    /// Throws unless every row of `ids` can run through the tower: 1...contextLength tokens, each id below the
    /// vocabulary size (a tower with a small vocabulary cannot take the CLIP tokenizer's ids).
    public func validate(ids: [[Int]]) throws {
        let vocabulary = vocabularySize, context = contextLength
        for (t, row) in ids.enumerated() {
            guard (1...context).contains(row.count) else {
                throw CLIPInputError.textLength(length: row.count, text: t, contextLength: context)
            }
            if let p = row.firstIndex(where: { $0 < 0 || $0 >= vocabulary }) {
                throw CLIPInputError.tokenOutOfVocabulary(id: row[p], text: t, position: p, vocabularySize: vocabulary)
            }
        }
    }

    // MARK: - Forward

    /// encode_text from padded token ids [B][L] (L = context length): unnormalised [B, E].
    public func forward(ids: [[Int]], outputLayers: Set<Int> = [], captured: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        forward(embeddings: embed(ids: ids), ids: ids, hook: nil, outputLayers: outputLayers, captured: captured)
    }

    /// Token embedding lookup: [B][L] ids -> [B, L, W] (positional embedding not yet added).
    public func embed(ids: [[Int]]) -> Tensor {
        let flat = ids.flatMap { $0 }
        // Callers fed by input check `validate(ids:)` first; an id past the table would read outside it.
        precondition(flat.allSatisfy { $0 >= 0 && $0 < vocabularySize }, "TextTransformer: token id outside the vocabulary of \(vocabularySize)")
        return tokenEmbedding.gatherRows(flat).reshaped([ids.count, ids.first?.count ?? 0, width])
    }

    /// The text tower from token EMBEDDINGS [B, L, W] (prompt learning feeds these); `ids` only locate the
    /// end-of-text token (argmax of each row, first maximum as torch.argmax).
    public func forward(
        embeddings: Tensor, ids: [[Int]], hook: LayerHook? = nil,
        outputLayers: Set<Int> = [], captured: ((Int, Tensor) -> Void)? = nil
    ) -> Tensor {
        let b = embeddings.shape[0], l = embeddings.shape[1]
        precondition(l <= contextLength, "text length \(l) exceeds the context length \(contextLength)")
        var x = embeddings + positionalEmbedding.slice(rows: 0..<l)
        for (i, block) in blocks.enumerated() {
            hook?(i, &x)
            x = block.forward(x, causal: true)
            if outputLayers.contains(i + 1) { captured?(i + 1, x) }
        }
        let eot = ids.map { TextTransformer.endOfTextPosition($0) }
        let rows = Tensor.concatenate((0..<b).map { x[$0].slice(rows: eot[$0]..<(eot[$0] + 1)) })
        return rows.layerNorm(gamma: lnFinalWeight, beta: lnFinalBias).matmul(projection)
    }

    /// Index of the first maximum id (the EOT token has the largest id in CLIP's vocabulary).
    public static func endOfTextPosition(_ ids: [Int]) -> Int {
        var best = 0
        for (i, v) in ids.enumerated() where v > ids[best] { best = i }
        return best
    }
}
