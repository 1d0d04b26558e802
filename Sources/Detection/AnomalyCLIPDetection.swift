import AnomalyCLIP
import CLIP
import Tensor

/// AnomalyCLIP behind the `Detector` face: square resize to the input side, DPAM features, the summed layer maps
/// at that side, smoothed (official `test.py`).
/// Mutated only by `DetectorFactory` before it hands the detector out; immutable afterwards.
final class AnomalyCLIPDetection: Detector, ThresholdsSettable, @unchecked Sendable {
    let detector: AnomalyCLIPDetector
    let prompts: PromptParameters
    let promptMetadata: [String: String]
    var spec: DetectorSpec
    let preprocessor: ImagePreprocessor
    var thresholds: CalibratedThresholds?

    init(detector: AnomalyCLIPDetector, prompts: PromptParameters, promptMetadata: [String: String], spec: DetectorSpec) {
        self.detector = detector
        self.prompts = prompts
        self.promptMetadata = promptMetadata
        self.spec = spec
        preprocessor = ImagePreprocessor(size: detector.configuration.imageSize, resize: .square)
    }

    var mapSide: Int { detector.configuration.imageSize }
    /// Each layer's map is a probability-like value in [0, 1]; the layers are summed.
    var naturalMapRange: ClosedRange<Float> { 0...Float(detector.configuration.featureLayers.count) }
    var learnedImages: [String] { [] }

    var settings: [(key: String, value: String)] {
        let c = detector.configuration
        return [("clip", spec.clip ?? ""), ("prompts", spec.prompts ?? ""), ("activation", detector.model.activation.rawValue),
                ("image_size", "\(c.imageSize)"), ("layers", c.featureLayers.map(String.init).joined(separator: ",")),
                ("dpam_blocks", "\(c.dpamBlocks)")]
    }

    func forward(_ pixels: Tensor) throws -> MethodOutput {
        let result = detector.detect(pixels)
        return MethodOutput(scores: result.imageScores, gridMaps: result.gridMaps, maps: result.maps)
    }

    /// A ClipAD prompt file (an official .pth is converted) with the thresholds and the run's settings.
    func saveModel(with thresholds: CalibratedThresholds, to path: String) throws -> Bool {
        var meta = promptMetadata.filter { !$0.key.hasPrefix("threshold.") }
        meta["activation"] = detector.model.activation.rawValue
        meta["detector_spec"] = spec.json()
        try prompts.save(path: path, configuration: detector.configuration, extraMetadata: meta.merging(thresholds.metadata) { $1 })
        return true
    }
}
