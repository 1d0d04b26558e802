import CLIP
import Tensor

// MARK: - AnomalyCLIP + shots: zero-shot and few-shot from ONE vision forward

/// The zero-shot map (DPAM V-V tokens -> text) and the few-shot map (original-path tokens -> shot bank) come from the
/// same `forwardDualPath` call: the original path runs anyway (it carries the global feature), so the bank layers cost
/// only the nearest-neighbour search. Fused map = zero-shot raw map + few-shot map, then the Gaussian; fused image
/// score = `AnomalyCLIPShotBank.imageScore` (zero-shot global score and the few-shot map maximum).
extension AnomalyCLIPDetector {
    public struct ShotResult: Sendable {
        /// Fused image scores in [0, 1].
        public var imageScores: [Float]
        /// The zero-shot global scores (abnormal probability) alone.
        public var zeroShotScores: [Float]
        /// Maximum of each image's few-shot map.
        public var fewShotMaxima: [Float]
        /// The zero-shot raw map (sum over feature layers, in [0, feature layers]), [B, S, S].
        public var zeroShotMaps: Tensor
        /// The few-shot map (sum over bank layers of min (1 − cos), in [0, 2 · bank layers]), [B, S, S].
        public var fewShotMaps: Tensor
        /// zero-shot + few-shot before smoothing, [B, S, S].
        public var rawMaps: Tensor
        /// zero-shot + few-shot on the patch grid, [B, g, g].
        public var gridMaps: Tensor
        /// `rawMaps` after the Gaussian filter, [B, S, S].
        public var maps: Tensor
    }

    /// One forward: the method's features and, per bank layer, the L2-normalised original-path patch tokens before
    /// ln_post and projection, [B, g·g, W].
    public func featuresAndBankTokens(_ images: Tensor, bankLayers: [Int]) -> (features: ImageFeatures, bank: [Int: Tensor]) {
        let vision = model.vision
        // The last block's patch tokens are needed when it is a bank layer; otherwise its class token alone suffices.
        let out = vision.forwardDualPath(images, firstDualBlock: firstDualBlock,
                                         outputLayers: Set(configuration.featureLayers).union(bankLayers),
                                         finalClassTokenOnly: !bankLayers.contains(vision.layers))
        var bank: [Int: Tensor] = [:]
        for layer in bankLayers {
            let tokens = out.originalTokens[layer] ?? out.finalOriginal   // the last block: finalOriginal is full here
            let b = tokens.shape[0], t = tokens.shape[1], w = tokens.shape[2]
            bank[layer] = tokens.droppingClassToken().reshaped([b * (t - 1), w]).l2Normalized().reshaped([b, t - 1, w])
        }
        return (features(from: out), bank)
    }

    /// The shot bank of normalised shot images, each [1, 3, S, S] (one forward each, to bound memory).
    public func shotBank(shots: [Tensor], layers: [Int]) throws -> AnomalyCLIPShotBank {
        for layer in layers where !(1...model.vision.layers).contains(layer) {
            throw AnomalyCLIPError.badConfiguration("bank layer \(layer) must be in 1...\(model.vision.layers) (the vision tower's blocks)")
        }
        var perLayer: [Int: [Tensor]] = [:]
        for image in shots {
            try validate(images: image)
            let tokens = featuresAndBankTokens(image, bankLayers: layers).bank
            for layer in layers { perLayer[layer, default: []].append(tokens[layer]!) }
        }
        let stacked = perLayer.mapValues { Tensor.concatenate($0) }
        return try AnomalyCLIPShotBank(layers: layers, shotTokens: stacked, mapSide: configuration.imageSize)
    }

    /// images: [B, 3, S, S] normalised pixels -> fused scores and maps.
    public func detect(_ images: Tensor, shots bank: AnomalyCLIPShotBank) -> ShotResult {
        let (features, tokens) = featuresAndBankTokens(images, bankLayers: bank.layers)
        return detect(features: features, bankTokens: tokens, height: images.shape[2], width: images.shape[3], shots: bank)
    }

    /// Fused scores and maps from already computed features (`featuresAndBankTokens` with `bank.layers`).
    public func detect(features: ImageFeatures, bankTokens tokens: [Int: Tensor], height h: Int, width w: Int,
                       shots bank: AnomalyCLIPShotBank) -> ShotResult {
        let zero = zeroShotParts(features: features, height: h, width: w)
        let few = bank.maps(tokens: tokens, height: h, width: w)
        let b = features.global.shape[0]
        var raw = zero.raw
        raw.add(few.maps)
        var grid = zero.grid
        grid.add(few.grids)
        let maxima = (0..<b).map { i in
            UnsafeBufferPointer(start: few.maps.data + i * h * w, count: h * w).max() ?? 0
        }
        let scores = (0..<b).map { bank.imageScore(zeroShot: zero.scores[$0], mapMaximum: maxima[$0]) }
        return ShotResult(imageScores: scores, zeroShotScores: zero.scores, fewShotMaxima: maxima, zeroShotMaps: zero.raw,
                          fewShotMaps: few.maps, rawMaps: raw, gridMaps: grid,
                          maps: GaussianFilter(sigma: configuration.sigma).apply(raw))
    }
}
