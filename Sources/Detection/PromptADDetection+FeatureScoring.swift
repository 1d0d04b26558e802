import CLIP
import PromptAD
import Tensor

extension PromptADDetection: FeatureScoring {
    /// The features depend on the backbone and the input size, memory layers and memory feature, not on the shots.
    var featureKey: String {
        let c = detector.fitted.configuration
        return "promptad|\(spec.clipFingerprint ?? spec.clip ?? "")|\(detector.model.activation.rawValue)|\(c.imageSize)|\(c.memoryLayers)|\(c.memoryFeature.rawValue)"
    }

    func encode(_ pixels: Tensor) throws -> EncodedImages {
        try detector.model.vision.validate(imageShape: pixels.shape)
        let features = try PromptADImageFeatures.compute(pixels, model: detector.model, configuration: detector.fitted.configuration)
        return EncodedImages(key: featureKey, value: features)
    }

    func score(_ features: EncodedImages) throws -> MethodOutput {
        let result = detector.detect(features: try features.features(as: PromptADImageFeatures.self, for: self), mapSize: mapSide)
        let fused = result.textualMaps.shape == result.visualMaps.shape
            ? Tensor(shape: result.textualMaps.shape) { HarmonicFusion.halfHarmonic(result.textualMaps[flat: $0], result.visualMaps[flat: $0]) }
            : result.visualMaps
        return MethodOutput(scores: result.imageScores, gridMaps: fused, maps: result.maps)
    }
}
