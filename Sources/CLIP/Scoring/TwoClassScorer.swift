import Tensor

/// The two-class text scorer every method shares: softmax(scale · x · textᵀ) over {normal, abnormal}, per row
/// of L2-normalised features x [N, E] against L2-normalised text features [2, E] (normal first).
/// AnomalyCLIP: scale 1/0.07 (official `test.py`); PromptAD: its score scale (raw logit_scale by default);
/// WinCLIP: 1/0.07 on its prompt-ensemble means.
public struct TwoClassScorer: Sendable {
    /// L2-normalised [2, E]: normal, abnormal.
    public let textFeatures: Tensor
    public let scale: Float

    public init(textFeatures: Tensor, scale: Float) {
        self.textFeatures = textFeatures
        self.scale = scale
    }

    /// [N, E] -> [N, 2] probabilities (normal, abnormal).
    public func probabilities(_ features: Tensor) -> Tensor {
        (features.matmul(textFeatures.transposed()) * scale).softmax()
    }

    /// [N, E] -> [N]: the abnormal probability of each row.
    public func abnormalProbability(_ features: Tensor) -> Tensor {
        let probs = probabilities(features)
        return Tensor(shape: [features.shape[0]]) { probs[flat: 2 * $0 + 1] }
    }
}
