import CLIP
import Tensor

/// The fixed part of one PromptAD prompt learner (semantic concatenation, `PromptLearner` in the official
/// `PromptAD/model.py`): token ids of its three prompt groups and their frozen token embeddings, into which the
/// learnable context is written.
///
/// - normal (n_pro): `[SOT] N N N N <class> . [EOT]`, the Ns replaced by `normal_ctx[p]`;
/// - manual anomaly (n_states · n_pro, state-major): `[SOT] N N N N <state with class> . [EOT]`, the Ns replaced by
///   `normal_ctx[i mod n_pro]` — the anomaly prompts share the learnable NORMAL context;
/// - learned anomaly (n_pro_ab · n_pro): `[SOT] N N N N A <class> . [EOT]`, Ns by `normal_ctx[i mod n_pro]`, A by
///   `abnormal_ctx[i mod n_pro_ab]`.
/// Sequences are cut after the longest group member's end-of-text token: the text tower is causal, so the
/// end-of-text feature never sees the padding and the cut is exact (and several times cheaper than 77 tokens).
public struct SemanticPrompts: Sendable {
    public let normalPrompts: Int
    public let configuration: PromptADConfiguration
    public let normalIDs: [[Int]], manualIDs: [[Int]], learnedIDs: [[Int]]
    /// Frozen token embeddings [count, L, W] of each group.
    let normalEmbeddings: Tensor, manualEmbeddings: Tensor, learnedEmbeddings: Tensor

    /// - className: the raw class (folder) name; written into prompts through `AnomalyPhrases.promptName`.
    /// - states: anomaly states with `{}` for the class name (see `AnomalyPhrases.states`).
    public init(className: String, states: [String], normalPrompts: Int, configuration c: PromptADConfiguration,
                tokenizer: CLIPTokenizer, text: TextTransformer) throws {
        guard normalPrompts >= 1 else { throw PromptADError.badConfiguration("n_pro must be at least 1") }
        for s in states where s.components(separatedBy: "{}").count != 2 { throw PromptADError.badPhrase(s) }
        let name = AnomalyPhrases.promptName(forClass: className)
        let context = Array(repeating: "N", count: c.normalContextTokens).joined(separator: " ")
        let anomalyContext = Array(repeating: "A", count: c.anomalyContextTokens).joined(separator: " ")
        let normalTexts = Array(repeating: "\(context) \(name).", count: normalPrompts)
        let manualTexts = states.flatMap { s in
            Array(repeating: "\(context) \(s.replacingOccurrences(of: "{}", with: name)).", count: normalPrompts)
        }
        let learnedTexts = Array(repeating: "\(context) \(anomalyContext) \(name).", count: c.learnedAnomalyPrompts * normalPrompts)
        func ids(_ texts: [String]) throws -> [[Int]] {
            let rows = texts.map { tokenizer.tokenize($0, contextLength: text.contextLength) }
            for (t, row) in zip(texts, rows) where row.count >= text.contextLength {
                throw PromptADError.badConfiguration("prompt '\(t)' does not fit the text context (\(text.contextLength) tokens)")
            }
            // Zero-padded (as open_clip pads) to the group's longest prompt.
            let length = rows.map(\.count).max() ?? 1
            let padded = rows.map { $0 + Array(repeating: 0, count: length - $0.count) }
            try text.validate(ids: padded)
            return padded
        }
        self.normalPrompts = normalPrompts
        configuration = c
        normalIDs = try ids(normalTexts)
        manualIDs = try ids(manualTexts)
        learnedIDs = try ids(learnedTexts)
        normalEmbeddings = text.embed(ids: normalIDs)
        manualEmbeddings = text.embed(ids: manualIDs)
        learnedEmbeddings = text.embed(ids: learnedIDs)
    }

    /// Unnormalised text features of the three groups, differentiable in the context.
    public struct Features {
        /// [n_pro, E]
        public var normal: Variable
        /// [n_states · n_pro, E]
        public var manual: Variable
        /// [n_pro_ab · n_pro, E]
        public var learned: Variable
    }

    /// Encodes every prompt with the given context (on the context's tape).
    public func features(normal: Variable, anomaly: Variable, text: TextTransformer) -> Features {
        let tape = normal.tape
        let n = normalPrompts, ab = configuration.learnedAnomalyPrompts, k = configuration.normalContextTokens
        precondition(normal.shape[0] == n && anomaly.shape[0] == ab, "context \(normal.shape) / \(anomaly.shape) for n_pro \(n)")
        func repeated(_ v: Variable, _ times: Int) -> Variable {
            times == 1 ? v : Variable.concatenate(Array(repeating: v, count: times), axis: 0)
        }
        let normalInput = tape.constant(normalEmbeddings).overwritingRows(start: 1, with: normal)
        let manualInput = tape.constant(manualEmbeddings).overwritingRows(start: 1, with: repeated(normal, manualIDs.count / n))
        let learnedInput = tape.constant(learnedEmbeddings)
            .overwritingRows(start: 1, with: repeated(normal, ab))
            .overwritingRows(start: 1 + k, with: repeated(anomaly, n))
        return Features(
            normal: text.forward(embeddings: normalInput, ids: normalIDs, deepPrompts: nil, tape: tape),
            manual: text.forward(embeddings: manualInput, ids: manualIDs, deepPrompts: nil, tape: tape),
            learned: text.forward(embeddings: learnedInput, ids: learnedIDs, deepPrompts: nil, tape: tape))
    }

    /// The text gallery [2, E] = [normalize(mean(normal)); normalize(mean(manual ∪ learned))] of the official
    /// `build_text_feature_gallery` (version V1: means of the RAW features, then normalised).
    public func gallery(_ context: PromptContext, text: TextTransformer) -> Tensor {
        let tape = Tape()
        let f = features(normal: tape.constant(context.normal), anomaly: tape.constant(context.anomaly), text: text)
        let anomaly = Variable.concatenate([f.manual, f.learned], axis: 0)
        return Tensor.concatenate([PromptADLoss.normalizedMean(f.normal).value, PromptADLoss.normalizedMean(anomaly).value])
            .reshaped([2, f.normal.shape[1]])
    }
}
