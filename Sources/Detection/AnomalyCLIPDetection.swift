import AnomalyCLIP
import CLIP
import Foundation
import Tensor

/// AnomalyCLIP behind the `Detector` face: square resize to the input side, DPAM features, the summed layer maps
/// at that side, smoothed (official `test.py`); with a shot bank, the fused zero-shot + few-shot map and score
/// (`AnomalyCLIPDetector.detect(_:shots:)`, one vision forward).
final class AnomalyCLIPDetection: Detector, Calibratable, Sendable {
    let detector: AnomalyCLIPDetector
    let prompts: PromptParameters
    let promptMetadata: [String: String]
    let spec: DetectorSpec
    let preprocessor: ImagePreprocessor
    let thresholds: CalibratedThresholds?
    /// The shot bank (AnomalyCLIP + shots); nil: zero-shot.
    let bank: AnomalyCLIPShotBank?
    let learnedImages: [String]

    init(detector: AnomalyCLIPDetector, prompts: PromptParameters, promptMetadata: [String: String], spec: DetectorSpec,
         bank: AnomalyCLIPShotBank? = nil, shots: [String] = [], thresholds: CalibratedThresholds? = nil) {
        self.detector = detector
        self.thresholds = thresholds
        self.bank = bank
        learnedImages = shots
        self.prompts = prompts
        self.promptMetadata = promptMetadata
        self.spec = spec
        preprocessor = ImagePreprocessor(size: detector.configuration.imageSize, resize: .square)
    }

    func calibrated(_ thresholds: CalibratedThresholds) -> any Detector {
        var spec = spec
        spec.thresholds = thresholds
        return AnomalyCLIPDetection(detector: detector, prompts: prompts, promptMetadata: promptMetadata, spec: spec,
                                    bank: bank, shots: learnedImages, thresholds: thresholds)
    }

    var mapSide: Int { detector.configuration.imageSize }
    /// Each layer's zero-shot map is a probability-like value in [0, 1]; the layers are summed. The few-shot map adds
    /// (1 − cos) in [0, 2] per bank layer.
    var naturalMapRange: ClosedRange<Float> {
        0...Float(detector.configuration.featureLayers.count + 2 * (bank?.layers.count ?? 0))
    }

    var settings: [(key: String, value: String)] {
        let c = detector.configuration
        var out: [(key: String, value: String)] = [
            ("clip", spec.clip ?? ""), ("prompts", spec.prompts ?? spec.model ?? ""), ("activation", detector.model.activation.rawValue),
            ("image_size", "\(c.imageSize)"), ("layers", c.featureLayers.map(String.init).joined(separator: ",")),
            ("dpam_blocks", "\(c.dpamBlocks)")]
        if let bank {
            out += [("shots", "\(bank.shotCount)"), ("bank_layers", bank.layers.map(String.init).joined(separator: ",")),
                    ("shot_leave_one_out_max", String(format: "mean %.4f, spread %.4f", bank.normalMaximumMean, bank.normalMaximumSpread))]
        }
        if !detector.phrases.isEmpty { out.append(("defect_words", detector.phrases.joined(separator: "; "))) }
        return out
    }

    func forward(_ pixels: Tensor) throws -> MethodOutput {
        if let bank {
            let result = detector.detect(pixels, shots: bank)
            return MethodOutput(scores: result.imageScores, gridMaps: result.gridMaps, maps: result.maps)
        }
        let result = detector.detect(pixels)
        return MethodOutput(scores: result.imageScores, gridMaps: result.gridMaps, maps: result.maps)
    }

    /// A ClipAD prompt file (an official .pth is converted) with the thresholds and the run's settings.
    func saveModel(with thresholds: CalibratedThresholds, to path: String) throws -> Bool {
        try writeModel(thresholds: thresholds, to: path)
        return true
    }

    /// The prompts, the shot bank (tensors + layers + leave-one-out maxima) if any, the detector spec (shots, defect
    /// words) and the thresholds if given, in one safetensors file.
    func writeModel(thresholds: CalibratedThresholds?, to path: String) throws {
        var meta = promptMetadata.filter { !$0.key.hasPrefix("threshold.") && !$0.key.hasPrefix("shot_bank.") }
        meta["activation"] = detector.model.activation.rawValue
        meta["detector_spec"] = spec.json()
        if let bank { meta.merge(bank.metadata) { $1 } }
        if let thresholds { meta.merge(thresholds.metadata) { $1 } }
        try prompts.save(path: path, configuration: detector.configuration, extraMetadata: meta, extraTensors: bank?.namedTensors ?? [:])
    }
}
