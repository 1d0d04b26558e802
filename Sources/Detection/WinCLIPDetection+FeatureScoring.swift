import CLIP
import Tensor
import WinCLIP

extension WinCLIPDetection: FeatureScoring {
    /// The embeddings depend on the backbone and the window scales, not on the references.
    var featureKey: String {
        "winclip|\(spec.clipFingerprint ?? spec.clip ?? "")|\(detector.model.activation.rawValue)|\(preprocessor.size)|\(detector.scales.map(\.kernel))"
    }

    func encode(_ pixels: Tensor) throws -> EncodedImages {
        let native = detector.model.vision.nativeImageSize
        guard pixels.rank == 4, pixels.shape[1] == 3, pixels.shape[2] == native, pixels.shape[3] == native else {
            throw WinCLIPError.badConfiguration("images must be \(native)x\(native) (the backbone's native size), got \(pixels.shape)")
        }
        return EncodedImages(key: featureKey, value: WinCLIPImageEmbeddings.compute(pixels, vision: detector.model.vision, scales: detector.scales))
    }

    func score(_ features: EncodedImages) throws -> MethodOutput {
        let result = detector.detect(embeddings: try features.features(as: WinCLIPImageEmbeddings.self, for: self), outputSize: mapSide)
        return MethodOutput(scores: result.imageScores, gridMaps: result.gridMaps, maps: result.maps)
    }
}
