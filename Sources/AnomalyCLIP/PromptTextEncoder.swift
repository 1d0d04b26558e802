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
        let length = (tokenIDs.map { TextTransformer.endOfTextPosition($0) + 1 }.max() ?? 1)
        encodedIDs = tokenIDs.map { Array($0.prefix(length)) }
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
