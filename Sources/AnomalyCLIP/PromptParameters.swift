import Checkpoint
import Foundation
import Tensor

/// AnomalyCLIP's learnable prompt parameters: the normal and abnormal context vectors and the deep text prompts.
public struct PromptParameters: Sendable {
    /// Normal prompt context `ctx_pos`, [nCtx, D].
    public var normalContext: Tensor
    /// Abnormal prompt context `ctx_neg`, [nCtx, D].
    public var abnormalContext: Tensor
    /// Deep prompts `compound_prompts_text.i`, each [tokens, D], inserted before text blocks 1...depth-1 (0-based).
    public var deepPrompts: [Tensor]

    public var width: Int { normalContext.shape[1] }
    public var contextLength: Int { normalContext.shape[0] }

    public init(normalContext: Tensor, abnormalContext: Tensor, deepPrompts: [Tensor]) {
        self.normalContext = normalContext
        self.abnormalContext = abnormalContext
        self.deepPrompts = deepPrompts
    }

    /// Random initialisation as the official PromptLearner does it: normal(0, 0.02) everywhere.
    public static func random(width: Int, configuration c: AnomalyCLIPConfiguration, seed: UInt64) -> PromptParameters {
        var rng = SeededGenerator(seed: seed)
        return PromptParameters(
            normalContext: .randomNormal([c.contextLength, width], std: 0.02, using: &rng),
            abnormalContext: .randomNormal([c.contextLength, width], std: 0.02, using: &rng),
            deepPrompts: (0..<max(c.deepPromptDepth - 1, 0)).map { _ in .randomNormal([c.deepPromptTokens, width], std: 0.02, using: &rng) })
    }

    // MARK: - Files

    static let officialPrefix = "prompt_learner."

    /// Reads the official `torch.save({"prompt_learner": state_dict})` file or ClipAD's safetensors prompt file.
    public static func load(path: String) throws -> (PromptParameters, metadata: [String: String]) {
        try load(checkpoint: Checkpoint.load(path: path))
    }

    /// The same from an already opened checkpoint (e.g. a training checkpoint that also holds optimiser state).
    public static func load(checkpoint: Checkpoint) throws -> (PromptParameters, metadata: [String: String]) {
        let path = checkpoint.path
        let official = checkpoint.tensors["\(officialPrefix)ctx_pos"] != nil
        let prefix = official ? officialPrefix : ""
        func tensor(_ key: String) throws -> Tensor {
            guard checkpoint.tensors[prefix + key] != nil else {
                throw AnomalyCLIPError.badPromptFile(file: path, reason: "missing '\(prefix + key)' (not an AnomalyCLIP prompt file?)")
            }
            return try checkpoint.tensor(prefix + key)
        }
        var pos = try tensor("ctx_pos"), neg = try tensor("ctx_neg")
        // Official shape [n_cls=1, n_prompts=1, n_ctx, D]; one class and one prompt is all the method uses.
        for (key, t) in [("ctx_pos", pos), ("ctx_neg", neg)] where t.rank == 4 && (t.shape[0] != 1 || t.shape[1] != 1) {
            throw AnomalyCLIPError.badPromptFile(file: path, reason: "tensor '\(prefix + key)' has shape \(t.shape), expected [1, 1, n_ctx, D]")
        }
        if pos.rank == 4 { pos = pos.reshaped([pos.shape[2], pos.shape[3]]) }
        if neg.rank == 4 { neg = neg.reshaped([neg.shape[2], neg.shape[3]]) }
        guard pos.rank == 2, pos.shape == neg.shape, pos.shape[0] >= 1, pos.shape[1] >= 1 else {
            throw AnomalyCLIPError.badPromptFile(file: path, reason: "ctx_pos \(pos.shape) and ctx_neg \(neg.shape) must both be [n_ctx, D] with n_ctx, D >= 1")
        }
        let deepKey = official ? "compound_prompts_text." : "deep_prompts."
        var deep: [Tensor] = []
        while checkpoint.tensors[prefix + deepKey + "\(deep.count)"] != nil {
            let t = try checkpoint.tensor(prefix + deepKey + "\(deep.count)")
            guard t.rank == 2, t.shape[1] == pos.shape[1] else {
                throw AnomalyCLIPError.badPromptFile(file: path, reason: "'\(prefix + deepKey)\(deep.count)' has shape \(t.shape), expected [tokens, \(pos.shape[1])]")
            }
            deep.append(t)
        }
        if let first = deep.first, deep.contains(where: { $0.shape != first.shape }) {
            throw AnomalyCLIPError.badPromptFile(file: path, reason: "deep prompts differ in shape")
        }
        // Settings recorded by ClipAD: checked here, so a hostile value never reaches the detector's arithmetic.
        if let json = checkpoint.metadata["configuration"] {
            let configuration: AnomalyCLIPConfiguration
            do { configuration = try JSONDecoder().decode(AnomalyCLIPConfiguration.self, from: Data(json.utf8)) } catch {
                throw AnomalyCLIPError.badPromptFile(file: path, reason: "metadata 'configuration' is not a valid AnomalyCLIP configuration (\(error))")
            }
            do { try configuration.validate(source: "metadata 'configuration'") } catch AnomalyCLIPError.badConfiguration(let reason) {
                throw AnomalyCLIPError.badPromptFile(file: path, reason: reason)
            }
        }
        return (PromptParameters(normalContext: pos, abnormalContext: neg, deepPrompts: deep), checkpoint.metadata)
    }

    /// Named tensors in ClipAD's layout (`ctx_pos`, `ctx_neg`, `deep_prompts.i`).
    public var namedTensors: [String: Tensor] {
        var out = ["ctx_pos": normalContext, "ctx_neg": abnormalContext]
        for (i, t) in deepPrompts.enumerated() { out["deep_prompts.\(i)"] = t }
        return out
    }

    /// Writes ClipAD's prompt file (safetensors + metadata), atomically.
    public func save(path: String, configuration: AnomalyCLIPConfiguration, extraMetadata: [String: String] = [:],
                     extraTensors: [String: Tensor] = [:]) throws {
        var meta = extraMetadata
        meta["method"] = "anomalyclip"
        if let json = try? JSONEncoder().encode(configuration), let s = String(data: json, encoding: .utf8) { meta["configuration"] = s }
        try SafetensorsWriter.write(namedTensors.merging(extraTensors) { a, _ in a }, metadata: meta, to: path)
    }
}

extension PromptParameters {
    /// From ClipAD's names (`ctx_pos`, `ctx_neg`, `deep_prompts.i`), as produced by `namedTensors`.
    public init(namedTensors t: [String: Tensor]) {
        var deep: [Tensor] = []
        while let d = t["deep_prompts.\(deep.count)"] { deep.append(d) }
        self.init(normalContext: t["ctx_pos"]!, abnormalContext: t["ctx_neg"]!, deepPrompts: deep)
    }
}
