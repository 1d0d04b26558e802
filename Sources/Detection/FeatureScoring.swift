import Tensor

/// A detector whose forward pass splits into an expensive image encoding (the vision tower) and a cheap scoring of
/// those features against what the detector learned (text features, a memory bank). The seeded few-shot protocol
/// encodes each test image once and re-scores it with the detector fitted for every seed (`TestFeatureCache`).
/// `forward(pixels)` must equal `score(encode(pixels))`.
public protocol FeatureScoring: Detector {
    /// Two detectors with equal keys compute interchangeable features (same backbone, input size and feature
    /// settings), whatever they learned from their shots.
    var featureKey: String { get }
    /// pixels [B, 3, S, S] -> the per-image features the scoring needs.
    func encode(_ pixels: Tensor) throws -> EncodedImages
    func score(_ features: EncodedImages) throws -> MethodOutput
}

/// Vision features of a batch of images as one method computes them; opaque outside that method's adapter.
public struct EncodedImages: @unchecked Sendable {   // holds immutable tensors only
    /// The `featureKey` of the detector that computed them.
    public let key: String
    let value: Any

    init(key: String, value: Any) {
        self.key = key
        self.value = value
    }

    /// The features as the method's own type; features of another kind are an error rather than a wrong score.
    func features<T>(as type: T.Type, for detector: any FeatureScoring) throws -> T {
        guard key == detector.featureKey, let v = value as? T else {
            throw DetectionError.badSetting(setting: "features", reason: "features computed as '\(key)' cannot be scored by a detector computing '\(detector.featureKey)'")
        }
        return v
    }
}
