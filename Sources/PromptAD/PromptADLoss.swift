import Tensor

/// PromptAD's training objective for one prompt learner, as the official `train_cls.py` / `train_seg.py` compute it
/// (all image features L2-normalised and constant; t = the logit scale):
///
///   loss = CE(t · [cos(f, n̂), cos(f, ã_1..M)], target normal)        (visual-to-text alignment)
///        + mean relu(‖f − n̂‖² − ‖f − â‖²)                            (explicit anomaly margin, margin 0)
///        + λ · ‖mean normalize(F_manual) − mean normalize(F_learned)‖²   (manual/learned anomaly matching)
///
/// with n̂ = normalize(mean F_normal), â = normalize(mean F_anomaly) over RAW text features, ã = normalised anomaly
/// features. Classification uses the global feature f [N, E]; segmentation every V-V patch token [N, P, E], whose
/// margin term — the official TripletLoss sums over dim 1, here the TOKENS — is per image and channel c:
/// Σ_t (f[t,c] − n̂_c)² − Σ_t (f[t,c] − â_c)² = P(n̂_c² − â_c²) + 2(â_c − n̂_c) Σ_t f[t,c], averaged over N·E terms.
public enum PromptADLoss {
    public enum Task: String, Codable, Sendable, CaseIterable {
        case classification = "cls"
        case segmentation = "seg"
    }

    public struct Parts {
        public var total: Variable
        public var alignment: Variable
        public var margin: Variable
        public var matching: Variable
        /// n̂ and â, [1, E].
        public var normalAnchor: Variable
        public var anomalyAnchor: Variable
    }

    /// - features: normalised image features, [N, E] (classification) or [N, P, E] (segmentation).
    public static func compute(task: Task, features: Tensor, text: SemanticPrompts.Features, logitScale: Float,
                               matchWeight: Float) -> Parts {
        let tape = text.normal.tape
        let anomaly = Variable.concatenate([text.manual, text.learned], axis: 0)   // [M, E]
        let matching = (columnMean(text.manual.l2Normalized()) - columnMean(text.learned.l2Normalized())).squared().sum()
        let normalAnchor = normalizedMean(text.normal), anomalyAnchor = normalizedMean(anomaly)   // [1, E]
        let e = features.shape[features.rank - 1]
        let rows = features.reshaped([features.count / e, e])
        let f = tape.constant(rows)
        let logits = Variable.concatenate([f.matmul(normalAnchor, transposeB: true),
                                           f.matmul(anomaly.l2Normalized(), transposeB: true)], axis: 1).scaled(by: logitScale)
        let alignment = logits.crossEntropy(targets: Array(repeating: 0, count: rows.shape[0]))
        let n = normalAnchor.reshaped([e]), a = anomalyAnchor.reshaped([e])
        let margin: Variable
        switch task {
        case .classification:
            margin = (f.squaredDistance(to: n) - f.squaredDistance(to: a)).relu().mean()
        case .segmentation:
            let images = features.shape[0], tokens = rows.shape[0] / images
            let tokenSums = tape.constant(features.reshaped([images, tokens, e]).sumOverTokens())   // [N, E]
            let perChannel = tokenSums * (a - n).scaled(by: 2) + (n.squared() - a.squared()).scaled(by: Float(tokens))
            margin = perChannel.relu().mean()
        }
        let total = alignment + margin + matching.scaled(by: matchWeight)
        return Parts(total: total, alignment: alignment, margin: margin, matching: matching,
                     normalAnchor: normalAnchor, anomalyAnchor: anomalyAnchor)
    }

    /// normalize(mean over rows) of [M, E] -> [1, E].
    static func normalizedMean(_ x: Variable) -> Variable { columnMean(x).reshaped([1, x.shape[1]]).l2Normalized() }

    /// Mean over rows of [M, E] -> [E].
    static func columnMean(_ x: Variable) -> Variable { x.transposedLastTwo().meanLastDimension() }
}

extension Tensor {
    /// [N, P, E] -> [N, E]: the sum over the middle (token) axis.
    func sumOverTokens() -> Tensor {
        let n = shape[0], p = shape[1], e = shape[2]
        let out = Tensor(zeros: [n, e])
        let src = data, dst = out.mutableData
        for i in 0..<n { for t in 0..<p { for c in 0..<e { dst[i * e + c] += src[(i * p + t) * e + c] } } }
        return out
    }
}
