import CLIP
import PromptAD
import Tensor

/// PromptAD behind the `Detector` face: square resize to the model's input size, the fused textual/visual map
/// smoothed at the map size, the official image score.
final class PromptADDetection: Detector, Calibratable, Sendable {
    let detector: PromptADDetector
    let metadata: [String: String]
    let spec: DetectorSpec
    let preprocessor: ImagePreprocessor
    let mapSide: Int
    let learnedImages: [String]
    let thresholds: CalibratedThresholds?

    init(detector: PromptADDetector, metadata: [String: String], spec: DetectorSpec, mapSide: Int, shots: [String],
         thresholds: CalibratedThresholds? = nil) {
        self.detector = detector
        self.thresholds = thresholds
        self.metadata = metadata
        self.spec = spec
        self.mapSide = mapSide
        learnedImages = shots
        preprocessor = ImagePreprocessor(size: detector.fitted.configuration.imageSize, resize: .square)
    }

    func calibrated(_ thresholds: CalibratedThresholds) -> any Detector {
        var spec = spec
        spec.thresholds = thresholds
        return PromptADDetection(detector: detector, metadata: metadata, spec: spec, mapSide: mapSide, shots: learnedImages,
                                 thresholds: thresholds)
    }

    /// Textual and visual terms are each at most 1, so 1/(1/a + 1/b) is at most 0.5.
    var naturalMapRange: ClosedRange<Float> { 0...0.5 }

    var settings: [(key: String, value: String)] {
        let fitted = detector.fitted
        return [("model", spec.model ?? ""), ("clip", spec.clip ?? ""), ("activation", detector.model.activation.rawValue),
                ("class_name", fitted.className), ("shots", "\(fitted.shots.count)"), ("image_size", "\(preprocessor.size)"),
                ("memory_feature", fitted.configuration.memoryFeature.rawValue),
                ("score_scale", "\(fitted.configuration.scoreScale.rawValue) (\(fitted.scoreScale))")]
    }

    /// Encoding then scoring (`PromptADDetection+FeatureScoring`), the split the few-shot protocol caches at.
    func forward(_ pixels: Tensor) throws -> MethodOutput { try score(encode(pixels)) }

    func saveModel(with thresholds: CalibratedThresholds, to path: String) throws -> Bool {
        var meta = metadata.filter { !$0.key.hasPrefix("threshold.") }
        meta["threshold.map_size"] = "\(mapSide)"
        meta["detector_spec"] = spec.json()
        try detector.fitted.save(path: path, extraMetadata: meta.merging(thresholds.metadata) { $1 })
        return true
    }
}
