import CLIP
import Tensor

/// Turns AnomalyCLIP's learnable prompts into the (normal, abnormal) text features.
///
/// Prompts are "X ... X object." and "X ... X damaged object." (object-agnostic); the n_ctx placeholder
/// embeddings are replaced by the learned context, and deep prompts overwrite the tokens right after SOT
/// before text blocks 1...depth-1 (0-based), rounded to half precision as the official code does (`.half()`).
public struct PromptTextEncoder {
    public let model: CLIPModel
    public let configuration: AnomalyCLIPConfiguration
    /// Token ids of the normal and abnormal prompt, zero-padded to the full context (as the official file stores them).
    public let tokenIDs: [[Int]]
    /// The same cut after the longer prompt's end-of-text token: what the text tower runs on. Exact, because the tower
    /// is causal (the end-of-text feature never sees later positions) and deep prompts only replace positions 1...n;
    /// about 17 tokens instead of 77 for the official prompts.
    public let encodedIDs: [[Int]]

    public init(model: CLIPModel, configuration: AnomalyCLIPConfiguration, tokenizer: CLIPTokenizer) {
        self.model = model
        self.configuration = configuration
        tokenIDs = PromptTextEncoder.promptTexts(contextLength: configuration.contextLength).map {
            tokenizer.tokenizePadded([$0], contextLength: model.text.contextLength)[0].map(Int.init)
        }
        // Through the end-of-text token, and far enough for the deep prompts' rows 1...t_n_ctx (same features:
        // the tower is causal).
        let end = tokenIDs.map { TextTransformer.endOfTextPosition($0) + 1 }.max() ?? 1
        let length = min(max(end, 1 + configuration.deepPromptTokens), model.text.contextLength)
        encodedIDs = tokenIDs.map { Array($0.prefix(length)) }
    }

    /// Throws unless the prompts of `configuration` fit the text tower: "X ... X damaged object." with n_ctx
    /// placeholders within the context length (longer prompts would be cut and the context written past the
    /// sequence), deep prompts of t_n_ctx rows after SOT within it, and every token id in the vocabulary.
    public static func checkFits(model: CLIPModel, configuration: AnomalyCLIPConfiguration, tokenizer: CLIPTokenizer) throws {
        let context = model.text.contextLength
        for text in promptTexts(contextLength: configuration.contextLength) {
            let tokens = tokenizer.tokenize(text, contextLength: context + 1)
            guard tokens.count <= context else {
                throw AnomalyCLIPError.badConfiguration("prompts with \(configuration.contextLength) context vectors need more than \(context) tokens, the text tower's context length (n_ctx at most \(context - 5) for \"X ... X damaged object.\")")
            }
            try model.text.validate(ids: [tokens])
        }
        guard 1 + configuration.deepPromptTokens <= context else {
            throw AnomalyCLIPError.badConfiguration("deep prompts of \(configuration.deepPromptTokens) tokens do not fit after the start token in the text tower's context of \(context) (t_n_ctx at most \(context - 1))")
        }
    }

    /// Throws unless `prompts` can be written into this encoder's sequences: context vectors [n_ctx, W] and
    /// deep prompts [t, W] with 1 + n_ctx and 1 + t rows within the encoded length.
    public func checkFits(_ prompts: PromptParameters) throws {
        let length = encodedIDs.first?.count ?? 0, width = model.text.width
        guard prompts.normalContext.rank == 2, prompts.normalContext.shape == prompts.abnormalContext.shape,
              prompts.width == width, 1 + prompts.contextLength <= length else {
            throw AnomalyCLIPError.badConfiguration("prompt context vectors \(prompts.normalContext.shape) / \(prompts.abnormalContext.shape) do not fit \(length)-token prompts of a \(width)-wide text tower (expected [\(configuration.contextLength), \(width)])")
        }
        for (i, deep) in prompts.deepPrompts.enumerated() {
            guard deep.rank == 2, deep.shape[1] == width, 1 + deep.shape[0] <= length else {
                throw AnomalyCLIPError.badConfiguration("deep prompt \(i) has shape \(deep.shape), expected [t, \(width)] with t at most \(length - 1)")
            }
        }
    }

    /// The official prompt strings: n_ctx placeholder words, then the state phrase.
    public static func promptTexts(contextLength n: Int) -> [String] {
        let placeholders = Array(repeating: "X", count: n).joined(separator: " ")
        return ["\(placeholders) object.", "\(placeholders) damaged object."]
    }

    /// Token embeddings [2, L, W] of `encodedIDs` with the context vectors in place of the placeholders.
    public func promptEmbeddings(_ prompts: PromptParameters) -> Tensor {
        var x = model.text.embed(ids: encodedIDs)
        x.overwriteRows(sequence: 0, start: 1, with: prompts.normalContext)
        x.overwriteRows(sequence: 1, start: 1, with: prompts.abnormalContext)
        return x
    }

    /// Deep prompts as inserted: block index (0-based) -> half-rounded [tokens, W].
    public func insertedDeepPrompts(_ prompts: PromptParameters) -> [Int: Tensor] {
        var out: [Int: Tensor] = [:]
        let depth = min(configuration.deepPromptDepth, model.text.layers)
        for layer in 1..<max(depth, 1) where layer - 1 < prompts.deepPrompts.count {
            out[layer] = prompts.deepPrompts[layer - 1].roundedToHalfPrecision()
        }
        return out
    }

    /// L2-normalised text features [2, E]: row 0 normal, row 1 abnormal.
    public func textFeatures(_ prompts: PromptParameters) -> Tensor {
        let deep = insertedDeepPrompts(prompts)
        let features = model.text.forward(embeddings: promptEmbeddings(prompts), ids: encodedIDs, hook: { layer, hidden in
            guard let rows = deep[layer] else { return }
            for s in 0..<hidden.shape[0] { hidden.overwriteRows(sequence: s, start: 1, with: rows) }
        })
        return features.l2Normalized()
    }
}
