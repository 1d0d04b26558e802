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
        let layers = model.vision.layers
        guard configuration.dpamBlocks >= 1 && configuration.dpamBlocks <= layers else {
            throw AnomalyCLIPError.badConfiguration("DPAM blocks \(configuration.dpamBlocks) must be in 1...\(layers)")
        }
        guard !configuration.featureLayers.isEmpty, configuration.featureLayers.allSatisfy({ (1...layers).contains($0) }) else {
            throw AnomalyCLIPError.badConfiguration("feature layers \(configuration.featureLayers) must be in 1...\(layers)")
        }
        guard prompts.width == model.text.width else {
            throw AnomalyCLIPError.badConfiguration("prompts are \(prompts.width) wide but the CLIP text tower is \(model.text.width) wide (wrong backbone?)")
        }
        guard configuration.contextLength == prompts.contextLength else {
            throw AnomalyCLIPError.badConfiguration("prompts have \(prompts.contextLength) context vectors, configuration says \(configuration.contextLength)")
        }
        self.model = model
        self.configuration = configuration
        textFeatures = PromptTextEncoder(model: model, configuration: configuration, tokenizer: tokenizer).textFeatures(prompts)
    }

    /// 1-based index of the first block that runs DPAM.
    public var firstDualBlock: Int { model.vision.layers - configuration.dpamBlocks + 1 }

    /// images: [B, 3, S, S] normalised pixels.
    public func detect(_ images: Tensor) -> Result {
        let vision = model.vision
        let b = images.shape[0], h = images.shape[2], w = images.shape[3]
        let out = vision.forwardDualPath(images, firstDualBlock: firstDualBlock, outputLayers: Set(configuration.featureLayers))

        let global = vision.projectClassTokenWithoutLayerNorm(out.finalOriginal).l2Normalized()
        let globalProbs = twoClassSoftmax(global)
        let scores = (0..<b).map { globalProbs[flat: $0 * 2 + 1] }

        var layerMaps: [Int: Tensor] = [:]
        var raw = Tensor(zeros: [b, h, w])
        for layer in configuration.featureLayers {
            let tokens = out.valueValueTokens[layer] ?? out.originalTokens[layer]!
            let map = anomalyMap(patchTokens: vision.projectTokens(tokens), height: h, width: w)
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

    /// projected tokens [B, T, E] (class token first) -> [B, H, W] map (p_abnormal + 1 - p_normal) / 2.
    func anomalyMap(patchTokens: Tensor, height h: Int, width w: Int) -> Tensor {
        let b = patchTokens.shape[0], t = patchTokens.shape[1], e = patchTokens.shape[2]
        let grid = Int(Double(t - 1).squareRoot())
        let out = Tensor(uninitialized: [b, h, w])
        for i in 0..<b {
            let patches = patchTokens[i].slice(rows: 1..<t).l2Normalized()          // [g*g, E]
            let probs = twoClassSoftmax(patches.reshaped([t - 1, e]))               // [g*g, 2]
            let planar = probs.transposed().reshaped([2, grid, grid])
            let up = Interpolation.resize(planar, height: h, width: w, mode: .bilinear)
            let normal = up.data, abnormal = up.data + h * w, dst = out.mutableData + i * h * w
            for p in 0..<(h * w) { dst[p] = (abnormal[p] + 1 - normal[p]) / 2 }
        }
        return out
    }
}
