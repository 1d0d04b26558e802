import CLIP
import Foundation
import Tensor

// MARK: - The user's defect words as extra abnormal prompts

/// Extra abnormal prompts that reuse the LEARNED abnormal context with the user's words where the official prompt
/// says "damaged": "[ctx_neg] crack object." instead of "[ctx_neg] damaged object.". Deep prompts are inserted as for
/// the learned prompts. A phrase with "{}" has "object" put there ("{} with a missing screw" ->
/// "[ctx_neg] object with a missing screw."), as PromptAD's phrases put the class name there.
extension PromptTextEncoder {
    /// The state text that follows the context placeholders, for one phrase.
    public static func phraseText(_ phrase: String) -> String {
        phrase.contains("{}") ? phrase.replacingOccurrences(of: "{}", with: "object") + "." : "\(phrase) object."
    }

    /// The prompt strings of `phrases`: n_ctx placeholder words, then the phrase.
    public static func phrasePromptTexts(_ phrases: [String], contextLength n: Int) -> [String] {
        let placeholders = Array(repeating: "X", count: n).joined(separator: " ")
        return phrases.map { "\(placeholders) \(phraseText($0))" }
    }

    /// Throws unless every phrase is non-empty and its prompt fits the text tower's context.
    public static func checkPhrasesFit(_ phrases: [String], model: CLIPModel, configuration: AnomalyCLIPConfiguration,
                                       tokenizer: CLIPTokenizer) throws {
        let context = model.text.contextLength
        for (phrase, text) in zip(phrases, phrasePromptTexts(phrases, contextLength: configuration.contextLength)) {
            guard !phrase.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw AnomalyCLIPError.badConfiguration("a defect word or phrase is empty")
            }
            let tokens = tokenizer.tokenize(text, contextLength: context + 1)
            guard tokens.count <= context else {
                throw AnomalyCLIPError.badConfiguration("defect phrase '\(phrase)' is too long: with \(configuration.contextLength) context vectors its prompt needs more than \(context) tokens")
            }
            try model.text.validate(ids: [tokens])
        }
    }

    /// L2-normalised text features [P, E] of the phrases' abnormal prompts (empty phrases list: [0, E] is never asked for).
    public func phraseFeatures(_ prompts: PromptParameters, phrases: [String], tokenizer: CLIPTokenizer) -> Tensor {
        let padded = Self.phrasePromptTexts(phrases, contextLength: configuration.contextLength).map {
            tokenizer.tokenizePadded([$0], contextLength: model.text.contextLength)[0].map(Int.init)
        }
        // Cut after the longest end-of-text token (exact: the tower is causal), but keep the deep prompts' rows.
        let end = padded.map { TextTransformer.endOfTextPosition($0) + 1 }.max() ?? 1
        let length = min(max(end, 1 + configuration.deepPromptTokens), model.text.contextLength)
        let ids = padded.map { Array($0.prefix(length)) }
        var x = model.text.embed(ids: ids)
        for s in 0..<ids.count { x.overwriteRows(sequence: s, start: 1, with: prompts.abnormalContext) }
        let deep = insertedDeepPrompts(prompts)
        let features = model.text.forward(embeddings: x, ids: ids, hook: { layer, hidden in
            guard let rows = deep[layer] else { return }
            for s in 0..<hidden.shape[0] { hidden.overwriteRows(sequence: s, start: 1, with: rows) }
        })
        return features.l2Normalized()
    }
}
