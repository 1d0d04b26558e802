import CLIP
import Tensor

/// Zero-shot anomaly detection and segmentation with AnomalyCLIP (ICLR 2024), following the official
/// `test.py`: DPAM vision features, object-agnostic text features, softmax(cos / 0.07) scores and maps.
public final class AnomalyCLIPDetector: @unchecked Sendable {
    public let model: CLIPModel
    public let configuration: AnomalyCLIPConfiguration
    /// L2-normalised [2, E]: normal, abnormal.
    public let textFeatures: Tensor

    public struct Result: @unchecked Sendable {
        /// Abnormal probability of the global feature, per image.
        public var imageScores: [Float]
        /// Per selected layer, the upsampled (p_abnormal + 1 - p_normal)/2 map, [B, S, S].
        public var layerMaps: [Int: Tensor]
        /// Sum over layers before smoothing, [B, S, S].
        public var rawMaps: Tensor
        /// After the Gaussian filter, [B, S, S].
        public var maps: Tensor
    }

    public init(model: CLIPModel, prompts: PromptParameters, configuration: AnomalyCLIPConfiguration,
                tokenizer: CLIPTokenizer) throws {
        try configuration.validate(for: model, tokenizer: tokenizer)
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
    public struct ImageFeatures: @unchecked Sendable {
        /// L2-normalised global features [B, E] (original class token · proj, no ln_post).
        public var global: Tensor
        /// Per selected layer, L2-normalised patch features without the class token, [B, g*g, E].
        public var patches: [Int: Tensor]
    }

    /// images: [B, 3, S, S] normalised pixels.
    public func features(_ images: Tensor) -> ImageFeatures {
        let vision = model.vision
        let out = vision.forwardDualPath(images, firstDualBlock: firstDualBlock, outputLayers: Set(configuration.featureLayers),
                                         finalClassTokenOnly: true)
        var patches: [Int: Tensor] = [:]
        for layer in configuration.featureLayers {
            let tokens = vision.projectTokens(out.valueValueTokens[layer] ?? out.originalTokens[layer]!)   // [B, T, E]
            let b = tokens.shape[0], t = tokens.shape[1], e = tokens.shape[2]
            patches[layer] = Tensor.concatenate((0..<b).map { tokens[$0].slice(rows: 1..<t) }).l2Normalized().reshaped([b, t - 1, e])
        }
        return ImageFeatures(global: vision.projectClassTokenWithoutLayerNorm(out.finalOriginal).l2Normalized(), patches: patches)
    }

    /// images: [B, 3, S, S] normalised pixels.
    public func detect(_ images: Tensor) -> Result {
        detect(features: features(images), height: images.shape[2], width: images.shape[3])
    }

    /// Scores and maps from already computed features.
    public func detect(features: ImageFeatures, height h: Int, width w: Int) -> Result {
        let b = features.global.shape[0]
        let globalProbs = twoClassSoftmax(features.global)
        let scores = (0..<b).map { globalProbs[flat: $0 * 2 + 1] }
        var layerMaps: [Int: Tensor] = [:]
        var raw = Tensor(zeros: [b, h, w])
        for layer in configuration.featureLayers {
            let map = anomalyMap(patchFeatures: features.patches[layer]!, height: h, width: w)
            layerMaps[layer] = map
            raw.add(map)
        }
        let smoothed = GaussianFilter(sigma: configuration.sigma).apply(raw)
        return Result(imageScores: scores, layerMaps: layerMaps, rawMaps: raw, maps: smoothed)
    }

    /// softmax over {normal, abnormal} of (features · textᵀ) / temperature, per row: [N, E] -> [N, 2].
    func twoClassSoftmax(_ features: Tensor) -> Tensor {
        (features.matmul(textFeatures.transposed()) * (1 / configuration.temperature)).softmax()
    }

    /// Normalised patch features [B, g*g, E] -> [B, H, W] map (p_abnormal + 1 - p_normal) / 2.
    func anomalyMap(patchFeatures: Tensor, height h: Int, width w: Int) -> Tensor {
        let b = patchFeatures.shape[0], n = patchFeatures.shape[1], e = patchFeatures.shape[2]
        let grid = Int(Double(n).squareRoot())
        let out = Tensor(uninitialized: [b, h, w])
        for i in 0..<b {
            let probs = twoClassSoftmax(patchFeatures[i].reshaped([n, e]))   // [g*g, 2]
            let planar = probs.transposed().reshaped([2, grid, grid])
            let up = Interpolation.resize(planar, height: h, width: w, mode: .bilinear)
            let normal = up.data, abnormal = up.data + h * w, dst = out.mutableData + i * h * w
            for p in 0..<(h * w) { dst[p] = (abnormal[p] + 1 - normal[p]) / 2 }
        }
        return out
    }
}
