import AnomalyCLIP
import CLIP
import Tensor

extension AnomalyCLIPDetection: FeatureScoring {
    /// The features depend on the backbone, input size, map layers, DPAM blocks and bank layers, not on the shots.
    var featureKey: String {
        let c = detector.configuration
        return "anomalyclip|\(spec.clipFingerprint ?? spec.clip ?? "")|\(detector.model.activation.rawValue)|\(c.imageSize)|"
            + "\(c.featureLayers)|\(c.dpamBlocks)|\(bank?.layers ?? [])"
    }

    /// One vision forward: the zero-shot features and, with a bank, the bank layers' tokens of the same pass.
    struct Features {
        var image: AnomalyCLIPDetector.ImageFeatures
        var bankTokens: [Int: Tensor]
        var height: Int, width: Int
    }

    func encode(_ pixels: Tensor) throws -> EncodedImages {
        try detector.validate(images: pixels)
        let h = pixels.shape[2], w = pixels.shape[3]
        if let bank {
            let (image, tokens) = detector.featuresAndBankTokens(pixels, bankLayers: bank.layers)
            return EncodedImages(key: featureKey, value: Features(image: image, bankTokens: tokens, height: h, width: w))
        }
        return EncodedImages(key: featureKey, value: Features(image: detector.features(pixels), bankTokens: [:], height: h, width: w))
    }

    func score(_ features: EncodedImages) throws -> MethodOutput {
        let f = try features.features(as: Features.self, for: self)
        if let bank {
            let r = detector.detect(features: f.image, bankTokens: f.bankTokens, height: f.height, width: f.width, shots: bank)
            return MethodOutput(scores: r.imageScores, gridMaps: r.gridMaps, maps: r.maps)
        }
        let r = detector.detect(features: f.image, height: f.height, width: f.width)
        return MethodOutput(scores: r.imageScores, gridMaps: r.gridMaps, maps: r.maps)
    }
}
