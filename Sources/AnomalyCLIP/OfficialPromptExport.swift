import Checkpoint
import Foundation
import Tensor

/// Export of learned prompts in the official AnomalyCLIP file layout, so the official `test.py` can load them:
/// `torch.save({"prompt_learner": AnomalyCLIP_PromptLearner.state_dict()})` as `train.py` writes it.
extension PromptParameters {
    /// Width of the official (unused) deep-prompt projections: `nn.Linear(ctx_dim, 896)` in `prompt_ensemble.py`.
    public static let officialProjectionWidth = 896

    /// Writes the official `.pth` (atomically) with exactly the official state-dict keys, in the official order:
    /// `ctx_pos`/`ctx_neg` [1, 1, n_ctx, D]; the buffers `token_prefix_*` [1, 1, 1, D] and `token_suffix_*`
    /// [1, 1, L-1-n_ctx, D] (token-embedding rows of the tokenized prompts at position 0 and 1+n_ctx..<L) and
    /// `tokenized_prompts_*` [1, 1, L] int32 (what the official `tokenize` returns on torch >= 1.8);
    /// `compound_prompts_text.i` [t, D]; `compound_prompt_projections.i.weight` [896, D] / `.bias` [896].
    public func exportOfficial(to path: String, encoder: PromptTextEncoder) throws {
        let file = (path as NSString).lastPathComponent
        let nCtx = contextLength, d = width
        let ids = encoder.tokenIDs
        guard ids.count == 2, let length = ids.first?.count, ids[1].count == length else {
            throw AnomalyCLIPError.badPromptFile(file: file, reason: "expected two tokenized prompts of equal length, got \(ids.map(\.count))")
        }
        guard abnormalContext.shape == normalContext.shape, 1 + nCtx < length else {
            throw AnomalyCLIPError.badPromptFile(file: file, reason: "context \(normalContext.shape) / \(abnormalContext.shape) does not fit prompts of \(length) tokens")
        }
        guard encoder.model.text.width == d else {
            throw AnomalyCLIPError.badPromptFile(file: file, reason: "prompt width \(d) differs from the CLIP text width \(encoder.model.text.width)")
        }
        if let bad = deepPrompts.first(where: { $0.rank != 2 || $0.shape[1] != d }) {
            throw AnomalyCLIPError.badPromptFile(file: file, reason: "deep prompt of shape \(bad.shape), expected [tokens, \(d)]")
        }

        // Token embeddings of both prompts, [2, L, D]; the official buffers are slices of these rows.
        let embedded = encoder.model.text.embed(ids: ids)
        let rows = embedded.scalars
        func tokenRows(prompt: Int, _ range: Range<Int>) -> TorchValue {
            let start = (prompt * length + range.lowerBound) * d
            let values = Array(rows[start..<(start + range.count * d)])
            return .tensor(Tensor(shape: [1, 1, range.count, d], scalars: values))
        }
        func tokens(prompt: Int) -> TorchValue {
            .int32Tensor(ids[prompt].map { Int32(truncatingIfNeeded: $0) }, shape: [1, 1, length])
        }

        var state: [(String, TorchValue)] = [
            ("ctx_pos", .tensor(normalContext.reshaped([1, 1, nCtx, d]))),
            ("ctx_neg", .tensor(abnormalContext.reshaped([1, 1, nCtx, d]))),
            ("token_prefix_pos", tokenRows(prompt: 0, 0..<1)),
            ("token_suffix_pos", tokenRows(prompt: 0, (1 + nCtx)..<length)),
            ("token_prefix_neg", tokenRows(prompt: 1, 0..<1)),
            ("token_suffix_neg", tokenRows(prompt: 1, (1 + nCtx)..<length)),
            ("tokenized_prompts_pos", tokens(prompt: 0)),
            ("tokenized_prompts_neg", tokens(prompt: 1)),
        ]
        for (i, t) in deepPrompts.enumerated() { state.append(("compound_prompts_text.\(i)", .tensor(t))) }
        // The official forward never applies these projections, but its load_state_dict is strict, so the keys
        // must exist: ClipAD does not learn them and writes zeros.
        let width = PromptParameters.officialProjectionWidth
        for i in deepPrompts.indices {
            state.append(("compound_prompt_projections.\(i).weight", .tensor(Tensor(zeros: [width, d]))))
            state.append(("compound_prompt_projections.\(i).bias", .tensor(Tensor(zeros: [width]))))
        }
        try TorchSaveWriter.write(.dict([("prompt_learner", .orderedDict(state))]), to: path)
    }
}
