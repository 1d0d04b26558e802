import CLIP
import Tensor

/// Scores images with a fitted PromptAD model, following the official `PromptAD.forward` and `metric_cal_img`
/// (t = the score scale, raw logit_scale by default):
/// - textual: softmax(t · cos(feature, [normal; anomaly] gallery))[anomaly] — per V-V patch token with the
///   segmentation gallery (local), for the global feature with the classification gallery (global);
/// - visual: per memory layer the min over its bank of (1 − cos)/2, mean of the layers, per patch;
/// - map: 1/(1/textual_local + 1/visual) on the patch grid (exactly this, not twice it), bilinear (align_corners
///   false) to the map size, Gaussian (sigma 4);
/// - image score: 1/(1/max(visual map bilinearly upsampled to the map size, not smoothed) + 1/textual_global).
/// A zero term (a patch identical to a memory patch) gives 0, as the official float arithmetic does.
public struct PromptADDetector: Sendable {
    public let model: CLIPModel
    public let fitted: PromptADModel

    public struct Result: Sendable {
        public var imageScores: [Float]
        /// Smoothed segmentation maps [N, S, S].
        public var maps: Tensor
        /// Patch-grid terms [N, g, g].
        public var textualMaps: Tensor
        public var visualMaps: Tensor
        /// Global textual score per image.
        public var textualScores: [Float]
    }

    public init(model: CLIPModel, fitted: PromptADModel) throws {
        try fitted.configuration.validate(for: model)
        guard fitted.memoryBanks.count == fitted.configuration.memoryLayers.count,
              fitted.galleries[.classification] != nil, fitted.galleries[.segmentation] != nil else {
            throw PromptADError.badConfiguration("the model has \(fitted.memoryBanks.count) memory banks for \(fitted.configuration.memoryLayers.count) memory layers, or lacks a text gallery")
        }
        let e = model.vision.outputDim, w = model.vision.width
        for (task, g) in fitted.galleries where g.shape != [2, e] {
            throw PromptADError.badConfiguration("the \(task.rawValue) text gallery is \(g.shape) but this CLIP's embedding is \(e)-d (wrong backbone?)")
        }
        for bank in fitted.memoryBanks where bank.shape[1] != w {
            throw PromptADError.badConfiguration("the memory bank holds \(bank.shape[1])-d features but this CLIP's vision width is \(w) (wrong backbone?)")
        }
        self.model = model
        self.fitted = fitted
    }

    /// images: [N, 3, S, S] normalised pixels; maps come out at mapSize x mapSize.
    public func detect(_ images: Tensor, mapSize: Int) throws -> Result {
        try model.vision.validate(imageShape: images.shape)
        try Interpolation.validate(inputShape: [1, 1, 1], height: mapSize, width: mapSize)
        return detect(features: try PromptADImageFeatures.compute(images, model: model, configuration: fitted.configuration), mapSize: mapSize)
    }

    public func detect(features f: PromptADImageFeatures, mapSize s: Int) -> Result {
        let n = f.tokens.shape[0], p = f.tokens.shape[1], e = f.tokens.shape[2]
        let grid = Int(Double(p).squareRoot())
        let textual = anomalyProbability(f.tokens.reshaped([n * p, e]), gallery: fitted.galleries[.segmentation]!)
        let global = anomalyProbability(f.global, gallery: fitted.galleries[.classification]!)
        let visual = visualScores(f)
        let maps = Tensor(uninitialized: [n, s, s])
        var scores: [Float] = []
        let gaussian = GaussianFilter(sigma: fitted.configuration.sigma)
        for i in 0..<n {
            let fused = Tensor(shape: [1, grid, grid]) { j in HarmonicFusion.halfHarmonic(textual[flat: i * p + j], visual[flat: i * p + j]) }
            let smoothed = gaussian.apply(Interpolation.resize(fused, height: s, width: s, mode: .bilinear))
            (maps.mutableData + i * s * s).update(from: smoothed.data, count: s * s)
            let visualUp = Interpolation.resize(visual.slice(rows: (i * p)..<((i + 1) * p)).reshaped([1, grid, grid]),
                                                height: s, width: s, mode: .bilinear)
            scores.append(HarmonicFusion.halfHarmonic(visualUp.scalars.max() ?? 0, global[flat: i]))
        }
        return Result(imageScores: scores, maps: maps, textualMaps: textual.reshaped([n, grid, grid]),
                      visualMaps: visual.reshaped([n, grid, grid]), textualScores: global.scalars)
    }

    /// softmax(t · x · galleryᵀ)[:, 1] for normalised rows x [R, E] -> [R].
    func anomalyProbability(_ x: Tensor, gallery: Tensor) -> Tensor {
        TwoClassScorer(textFeatures: gallery, scale: fitted.scoreScale).abnormalProbability(x)
    }

    /// Mean over memory layers of the nearest-neighbour distance (1 − cos)/2 to that layer's bank, [N·P].
    func visualScores(_ f: PromptADImageFeatures) -> Tensor {
        var total: Tensor? = nil
        for (layer, bank) in fitted.memoryBanks.enumerated() {
            let m = f.memory[layer], w = m.shape[2]
            let d = CosineMemoryBank(rows: bank, normalised: true).distances(m.reshaped([m.count / w, w]))
            if total == nil { total = d } else { total!.add(d) }
        }
        return total! * (1 / Float(fitted.memoryBanks.count))
    }
}
