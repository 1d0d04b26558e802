import Foundation

/// PromptAD's settings, with the official defaults (`train_cls.py` / `train_seg.py` argparse, `PromptAD/model.py`).
public struct PromptADConfiguration: Codable, Equatable, Sendable {
    /// Which vision features fill the memory bank.
    public enum MemoryFeature: String, Codable, Sendable, CaseIterable {
        /// As the official code really computes it: its forward hooks store blocks 3 and 8's outputs as views that
        /// the next block then updates in place, so the bank holds blocks 4 and 9's state after their attention
        /// residual, before their MLP.
        case official
        /// The outputs of the memory layers themselves (what the hooks were written to capture).
        case blockOutput = "block-output"
    }

    /// How cosine similarities are scaled before the two-way softmax of the textual scores.
    public enum ScoreScale: String, Codable, Sendable, CaseIterable {
        /// The RAW `logit_scale` parameter (≈ 4.6 for the LAION checkpoints), as the official code does.
        case rawLogitScale = "raw"
        /// exp(logit_scale) (≈ 100), as CLIP's zero-shot classifier uses it.
        case exponentiated = "exp"
    }

    /// Learnable context tokens per normal prompt (`n_ctx`).
    public var normalContextTokens = 4
    /// Learnable anomaly tokens per learned anomaly prompt (`n_ctx_ab`).
    public var anomalyContextTokens = 1
    /// Learned anomaly prompts (`n_pro_ab`).
    public var learnedAnomalyPrompts = 4
    /// Normal prompts of the classification learner (`n_pro` in train_cls.py).
    public var classificationNormalPrompts = 3
    /// Normal prompts of the segmentation learner (`n_pro` in train_seg.py).
    public var segmentationNormalPrompts = 1
    /// Square input side (ViT-B-16-plus-240: 240).
    public var imageSize = 240
    /// 1-based vision blocks whose patch tokens form the two memory banks.
    public var memoryLayers = [3, 8]
    public var memoryFeature = MemoryFeature.official
    public var scoreScale = ScoreScale.rawLogitScale
    /// Gaussian sigma of the segmentation map (scipy `gaussian_filter`, truncate 4).
    public var sigma = 4.0
    /// Weight of the manual/learned anomaly-feature matching term (`--lambda1`).
    public var matchWeight: Float = 0.001
    // SGD with cosine annealing, one step per epoch (all shots in one batch).
    public var epochs = 100
    public var learningRate: Float = 0.002
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var minimumLearningRate: Float = 1e-5
    /// Standard deviation of the random prompt initialisation (`nn.init.normal_(std=0.02)`).
    public var initStd: Float = 0.02
    public var seed: UInt64 = 111

    public init() {}

    /// The configuration as one JSON string (model-file metadata).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    public static func fromJSON(_ s: String) throws -> PromptADConfiguration {
        try JSONDecoder().decode(PromptADConfiguration.self, from: Data(s.utf8))
    }
}
