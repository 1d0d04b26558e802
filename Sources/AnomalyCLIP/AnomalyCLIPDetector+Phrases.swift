import CLIP
import Tensor

// MARK: - Scoring with the user's defect words

/// With defect phrases, each abnormal prompt (the learned "damaged" one and one per phrase) is scored against the
/// fixed normal prompt as its own two-class softmax, and the abnormal probability is the MAXIMUM over them: a phrase
/// fires when its defect is present, and the learned prompt's probability stays a lower bound (a mean would dilute a
/// detection by every phrase that does not apply).
extension AnomalyCLIPDetector {
    /// L2-normalised features [N, E] -> [N] combined abnormal probabilities (the learned pair alone without phrases).
    public func abnormalProbabilities(_ features: Tensor) -> Tensor {
        let learned = scorer.abnormalProbability(features)
        guard let phraseFeatures = phraseTextFeatures else { return learned }
        var best = learned.scalars
        let normal = textFeatures.slice(rows: 0..<1)
        for p in 0..<phraseFeatures.shape[0] {
            let pair = Tensor.concatenate([normal, phraseFeatures.slice(rows: p..<(p + 1))])
            let probability = TwoClassScorer(textFeatures: pair, scale: 1 / configuration.temperature).abnormalProbability(features)
            for i in 0..<best.count where probability[flat: i] > best[i] { best[i] = probability[flat: i] }
        }
        return Tensor(shape: [best.count], scalars: best)
    }

    /// As `anomalyMap`, with the combined abnormal probability p on the grid, bilinearly upsampled. Without phrases
    /// (p_abnormal + 1 − p_normal) / 2 of the upsampled pair equals the upsampled p_abnormal (the channels sum to 1),
    /// so this is the same map up to rounding; the phrase-free path keeps the official order.
    func phraseAnomalyMap(patchFeatures: Tensor, height h: Int, width w: Int) -> (map: Tensor, grid: Tensor) {
        let b = patchFeatures.shape[0], n = patchFeatures.shape[1], e = patchFeatures.shape[2]
        let grid = Int(Double(n).squareRoot())
        let out = Tensor(uninitialized: [b, h, w]), onGrid = Tensor(uninitialized: [b, grid, grid])
        for i in 0..<b {
            let p = abnormalProbabilities(patchFeatures[i].reshaped([n, e]))
            let up = Interpolation.resize(p.reshaped([1, grid, grid]), height: h, width: w, mode: .bilinear)
            out.mutableData.advanced(by: i * h * w).update(from: up.data, count: h * w)
            onGrid.mutableData.advanced(by: i * n).update(from: p.data, count: n)
        }
        return (out, onGrid)
    }
}
