import Checkpoint
import Tensor

/// The learnable part of one PromptAD prompt learner: `normal_ctx` [n_pro, n_ctx, D] and `abnormal_ctx`
/// [n_pro_ab, n_ctx_ab, D] (names as in the official `PromptLearner`).
public struct PromptContext: Sendable {
    public var normal: Tensor
    public var anomaly: Tensor

    public init(normal: Tensor, anomaly: Tensor) {
        self.normal = normal
        self.anomaly = anomaly
    }

    public var normalPrompts: Int { normal.shape[0] }
    public var width: Int { normal.shape[2] }

    /// The official initialisation: normal(0, std) for `normal_ctx`, then for `abnormal_ctx`.
    public static func random(normalPrompts: Int, configuration c: PromptADConfiguration, width: Int,
                              seed: UInt64) -> PromptContext {
        var rng = SeededGenerator(seed: seed)
        let normal = Tensor.randomNormal([normalPrompts, c.normalContextTokens, width], std: c.initStd, using: &rng)
        let anomaly = Tensor.randomNormal([c.learnedAnomalyPrompts, c.anomalyContextTokens, width], std: c.initStd, using: &rng)
        return PromptContext(normal: normal, anomaly: anomaly)
    }

    /// Reads `normal_ctx` and `abnormal_ctx` from a `torch.save`d state dict of the official PromptLearner (other
    /// keys, such as its token buffers, are ignored) or from any checkpoint holding those two names.
    public static func load(path: String, configuration c: PromptADConfiguration, width: Int) throws -> PromptContext {
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.load(path: path) } catch {
            throw PromptADError.badPromptInit(file: path, reason: "\(error)")
        }
        func tensor(_ key: String) throws -> Tensor {
            let match = checkpoint.tensors.keys.first { $0 == key || $0.hasSuffix("." + key) }
            guard let name = match else {
                throw PromptADError.badPromptInit(file: path, reason: "no '\(key)' tensor (expected the official PromptLearner's state dict)")
            }
            return try checkpoint.tensor(name)
        }
        let normal = try tensor("normal_ctx"), anomaly = try tensor("abnormal_ctx")
        guard normal.rank == 3, normal.shape[1] == c.normalContextTokens, normal.shape[2] == width else {
            throw PromptADError.badPromptInit(file: path, reason: "normal_ctx is \(normal.shape), expected [n_pro, \(c.normalContextTokens), \(width)]")
        }
        guard anomaly.shape == [c.learnedAnomalyPrompts, c.anomalyContextTokens, width] else {
            throw PromptADError.badPromptInit(file: path, reason: "abnormal_ctx is \(anomaly.shape), expected [\(c.learnedAnomalyPrompts), \(c.anomalyContextTokens), \(width)]")
        }
        return PromptContext(normal: normal, anomaly: anomaly)
    }
}
