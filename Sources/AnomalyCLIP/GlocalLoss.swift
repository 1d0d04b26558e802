import Tensor

/// AnomalyCLIP's glocal training loss (official `train.py` / `loss.py`):
/// total = CE(global logits / 0.07, label) + 4 · Σ_layers [focal(M, gt) + dice(M₁, gt) + dice(M₀, 1 - gt)],
/// where M [B, 2, S, S] is the per-patch softmax of (patch · text) / 0.07, bilinearly upsampled to the mask size.
public struct GlocalLoss {
    public var temperature: Float = 0.07
    /// Weight of the local (pixel) terms.
    public var localWeight: Float = 4

    public init() {}

    /// One training batch of cached, L2-normalised image features with its ground truth.
    public struct Batch {
        public var global: Tensor                // [B, E]
        public var patches: [Int: Tensor]        // layer -> [B, g*g, E]
        public var masks: Tensor                 // [B, S, S], 0 or 1
        public var labels: [Int]                 // 0 normal, 1 anomalous

        public init(global: Tensor, patches: [Int: Tensor], masks: Tensor, labels: [Int]) {
            self.global = global; self.patches = patches; self.masks = masks; self.labels = labels
        }
    }

    public struct Terms {
        public var total: Variable
        public var globalCrossEntropy: Float
        /// Unweighted sums over layers.
        public var focal: Float
        public var dice: Float
    }

    /// textFeatures: L2-normalised [2, E] (normal, abnormal) on the tape.
    public func callAsFunction(textFeatures: Variable, batch: Batch) -> Terms {
        let tape = textFeatures.tape
        let b = batch.global.shape[0], s = batch.masks.shape[1], w = batch.masks.shape[2]
        let inverseT = 1 / temperature

        let globalLogits = tape.constant(batch.global).matmul(textFeatures, transposeB: true).scaled(by: inverseT)
        let ce = globalLogits.crossEntropy(targets: batch.labels)

        // Targets: class index per pixel for the focal term, the mask and its complement for the dice terms.
        let maskValues = batch.masks.data
        let pixelTargets = (0..<batch.masks.count).map { maskValues[$0] > 0.5 ? 1 : 0 }
        let gt = batch.masks.map { $0 > 0.5 ? 1 : 0 }
        let background = gt.map { 1 - $0 }

        var local: Variable? = nil
        var focalSum: Float = 0, diceSum: Float = 0
        for layer in batch.patches.keys.sorted() {
            let patches = batch.patches[layer]!
            let n = patches.shape[1], e = patches.shape[2], grid = Int(Double(n).squareRoot())
            let probs = tape.constant(patches.reshaped([b * n, e])).matmul(textFeatures, transposeB: true)
                .scaled(by: inverseT).softmax()                                       // [B*n, 2]
            let maps = probs.reshaped([b, n, 2]).transposedLastTwo()                 // [B, 2, n]
                .reshaped([b * 2, grid, grid]).resized(height: s, width: w, mode: .bilinear)
                .reshaped([b, 2, s * w])
            let focal = maps.focalLoss(targets: pixelTargets)
            let diceAbnormal = maps.slice(axis: 1, 1..<2).reshaped([b, s * w]).diceLoss(targets: gt.reshaped([b, s * w]))
            let diceNormal = maps.slice(axis: 1, 0..<1).reshaped([b, s * w]).diceLoss(targets: background.reshaped([b, s * w]))
            focalSum += focal.value[flat: 0]
            diceSum += diceAbnormal.value[flat: 0] + diceNormal.value[flat: 0]
            let term = focal + diceAbnormal + diceNormal
            local = local.map { $0 + term } ?? term
        }
        let total = local.map { ce + $0.scaled(by: localWeight) } ?? ce
        return Terms(total: total, globalCrossEntropy: ce.value[flat: 0], focal: focalSum, dice: diceSum)
    }
}
