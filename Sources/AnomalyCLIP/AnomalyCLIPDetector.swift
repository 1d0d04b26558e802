import CLIP
import Tensor

/// Zero-shot anomaly detection and segmentation with AnomalyCLIP (ICLR 2024), following the official
/// `test.py`: DPAM vision features, object-agnostic text features, softmax(cos / 0.07) scores and maps.
public final class AnomalyCLIPDetector: Sendable {
    public let model: CLIPModel
    public let configuration: AnomalyCLIPConfiguration
    /// L2-normalised [2, E]: normal, abnormal.
    public let textFeatures: Tensor
    /// The user's defect words / phrases (extra abnormal prompts, see `PromptTextEncoder.phraseFeatures`).
    public let phrases: [String]
    /// L2-normalised [P, E] abnormal features of `phrases`; nil without phrases.
    public let phraseTextFeatures: Tensor?

    public struct Result: Sendable {
        /// Abnormal probability of the global feature, per image.
        public var imageScores: [Float]
        /// Per selected layer, the upsampled (p_abnormal + 1 - p_normal)/2 map, [B, S, S].
        public var layerMaps: [Int: Tensor]
        /// Sum over layers before smoothing, [B, S, S].
        public var rawMaps: Tensor
        /// Sum over layers on the patch grid, before upsampling, [B, g, g].
        public var gridMaps: Tensor
        /// After the Gaussian filter, [B, S, S].
        public var maps: Tensor
    }

    public init(model: CLIPModel, prompts: PromptParameters, configuration: AnomalyCLIPConfiguration,
                tokenizer: CLIPTokenizer, phrases: [String] = []) throws {
        try configuration.validate(for: model, tokenizer: tokenizer)
        try PromptTextEncoder.checkPhrasesFit(phrases, model: model, configuration: configuration, tokenizer: tokenizer)
        guard prompts.width == model.text.width else {
            throw AnomalyCLIPError.badConfiguration("prompts are \(prompts.width) wide but the CLIP text tower is \(model.text.width) wide (wrong backbone?)")
        }
        guard configuration.contextLength == prompts.contextLength else {
            throw AnomalyCLIPError.badConfiguration("prompts have \(prompts.contextLength) context vectors, configuration says \(configuration.contextLength)")
        }
        self.model = model
        self.configuration = configuration
        let encoder = PromptTextEncoder(model: model, configuration: configuration, tokenizer: tokenizer)
        try encoder.checkFits(prompts)
        textFeatures = encoder.textFeatures(prompts)
        self.phrases = phrases
        phraseTextFeatures = phrases.isEmpty ? nil : encoder.phraseFeatures(prompts, phrases: phrases, tokenizer: tokenizer)
    }

    /// Throws unless `images` [B, 3, S, S] can run through `detect` (shape, side, memory; square, as the maps
    /// are read back on a g x g grid).
    public func validate(images: Tensor) throws {
        try model.vision.validate(imageShape: images.shape)
        guard images.shape[2] == images.shape[3] else {
            throw AnomalyCLIPError.badConfiguration("images must be square, got \(images.shape)")
        }
    }

    /// 1-based index of the first block that runs DPAM.
    public var firstDualBlock: Int { model.vision.layers - configuration.dpamBlocks + 1 }

    /// What the frozen vision tower gives the method: everything training and scoring need (cacheable).
    public struct ImageFeatures: Sendable {
        /// L2-normalised global features [B, E] (original class token · proj, no ln_post).
        public var global: Tensor
        /// Per selected layer, L2-normalised patch features without the class token, [B, g*g, E].
        public var patches: [Int: Tensor]
    }

    /// images: [B, 3, S, S] normalised pixels.
    public func features(_ images: Tensor) -> ImageFeatures {
        features(from: model.vision.forwardDualPath(images, firstDualBlock: firstDualBlock, outputLayers: Set(configuration.featureLayers),
                                                    finalClassTokenOnly: true))
    }

    /// The method's features from a dual-path forward that kept (at least) the feature layers.
    func features(from out: VisionTransformer.DualPathOutput) -> ImageFeatures {
        let vision = model.vision
        var patches: [Int: Tensor] = [:]
        for layer in configuration.featureLayers {
            let tokens = vision.projectTokens(out.valueValueTokens[layer] ?? out.originalTokens[layer]!)   // [B, T, E]
            let b = tokens.shape[0], t = tokens.shape[1], e = tokens.shape[2]
            patches[layer] = tokens.droppingClassToken().reshaped([b * (t - 1), e]).l2Normalized().reshaped([b, t - 1, e])
        }
        return ImageFeatures(global: vision.projectClassTokenWithoutLayerNorm(out.finalOriginal).l2Normalized(), patches: patches)
    }

    /// images: [B, 3, S, S] normalised pixels.
    public func detect(_ images: Tensor) -> Result {
        detect(features: features(images), height: images.shape[2], width: images.shape[3])
    }

    /// Scores and maps from already computed features.
    public func detect(features: ImageFeatures, height h: Int, width w: Int) -> Result {
        let parts = zeroShotParts(features: features, height: h, width: w)
        let smoothed = GaussianFilter(sigma: configuration.sigma).apply(parts.raw)
        return Result(imageScores: parts.scores, layerMaps: parts.layerMaps, rawMaps: parts.raw, gridMaps: parts.grid, maps: smoothed)
    }

    /// Everything of `Result` but the smoothed maps.
    func zeroShotParts(features: ImageFeatures, height h: Int, width w: Int)
        -> (scores: [Float], layerMaps: [Int: Tensor], raw: Tensor, grid: Tensor) {
        let b = features.global.shape[0]
        let scores: [Float]
        if phraseTextFeatures == nil {
            let globalProbs = twoClassSoftmax(features.global)
            scores = (0..<b).map { globalProbs[flat: $0 * 2 + 1] }
        } else {
            scores = abnormalProbabilities(features.global).scalars
        }
        var layerMaps: [Int: Tensor] = [:]
        var raw = Tensor(zeros: [b, h, w])
        let n = features.patches[configuration.featureLayers[0]]!.shape[1], g = Int(Double(n).squareRoot())
        var grid = Tensor(zeros: [b, g, g])
        for layer in configuration.featureLayers {
            let (map, gridMap) = phraseTextFeatures == nil
                ? anomalyMap(patchFeatures: features.patches[layer]!, height: h, width: w)
                : phraseAnomalyMap(patchFeatures: features.patches[layer]!, height: h, width: w)
            layerMaps[layer] = map
            raw.add(map)
            grid.add(gridMap)
        }
        return (scores, layerMaps, raw, grid)
    }

    /// softmax over {normal, abnormal} of (features · textᵀ) / temperature, per row: [N, E] -> [N, 2].
    func twoClassSoftmax(_ features: Tensor) -> Tensor { scorer.probabilities(features) }

    /// The text features with the official temperature.
    public var scorer: TwoClassScorer { TwoClassScorer(textFeatures: textFeatures, scale: 1 / configuration.temperature) }

    /// Normalised patch features [B, g*g, E] -> the [B, H, W] map (p_abnormal + 1 - p_normal) / 2 of the
    /// bilinearly upsampled probabilities (as the official code orders it), and the same on the grid, [B, g, g].
    func anomalyMap(patchFeatures: Tensor, height h: Int, width w: Int) -> (map: Tensor, grid: Tensor) {
        let b = patchFeatures.shape[0], n = patchFeatures.shape[1], e = patchFeatures.shape[2]
        let grid = Int(Double(n).squareRoot())
        let out = Tensor(uninitialized: [b, h, w]), onGrid = Tensor(uninitialized: [b, grid, grid])
        for i in 0..<b {
            let probs = twoClassSoftmax(patchFeatures[i].reshaped([n, e]))   // [g*g, 2]
            let planar = probs.transposed().reshaped([2, grid, grid])
            let up = Interpolation.resize(planar, height: h, width: w, mode: .bilinear)
            let normal = up.data, abnormal = up.data + h * w, dst = out.mutableData + i * h * w
            for p in 0..<(h * w) { dst[p] = (abnormal[p] + 1 - normal[p]) / 2 }
            let gridDst = onGrid.mutableData + i * n
            for p in 0..<n { gridDst[p] = (planar.data[n + p] + 1 - planar.data[p]) / 2 }
        }
        return (out, onGrid)
    }
}
