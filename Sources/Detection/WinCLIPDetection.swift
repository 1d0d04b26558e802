import CLIP
import Tensor
import WinCLIP

/// WinCLIP behind the `Detector` face: square resize to the backbone's native size, the zero-shot (or, with shots,
/// few-shot) map upsampled to that size, no smoothing.
final class WinCLIPDetection: Detector, Calibratable, Sendable {
    let detector: WinCLIPDetector
    let spec: DetectorSpec
    let preprocessor: ImagePreprocessor
    let learnedImages: [String]
    let thresholds: CalibratedThresholds?

    init(detector: WinCLIPDetector, spec: DetectorSpec, shots: [String], thresholds: CalibratedThresholds? = nil) {
        self.detector = detector
        self.thresholds = thresholds
        self.spec = spec
        learnedImages = shots
        preprocessor = ImagePreprocessor(size: detector.model.vision.nativeImageSize, resize: .square)
    }

    func calibrated(_ thresholds: CalibratedThresholds) -> any Detector {
        var spec = spec
        spec.thresholds = thresholds
        return WinCLIPDetection(detector: detector, spec: spec, shots: learnedImages, thresholds: thresholds)
    }

    var mapSide: Int { preprocessor.size }
    /// Class scores and (1 − cos)/2 distances all lie in [0, 1].
    var naturalMapRange: ClosedRange<Float> { 0...1 }

    var settings: [(key: String, value: String)] {
        [("clip", spec.clip ?? ""), ("activation", detector.model.activation.rawValue), ("class_name", spec.className ?? ""),
         ("shots", "\(learnedImages.count)"), ("image_size", "\(preprocessor.size)"),
         ("scales", detector.scales.map { "\($0.kernel)" }.joined(separator: ","))]
    }

    /// Encoding then scoring (`WinCLIPDetection+FeatureScoring`), the split the few-shot protocol caches at.
    func forward(_ pixels: Tensor) throws -> MethodOutput { try score(encode(pixels)) }

    /// WinCLIP has no model file: `clipad calibrate` writes a thresholds JSON instead.
    func saveModel(with thresholds: CalibratedThresholds, to path: String) throws -> Bool { false }
}
