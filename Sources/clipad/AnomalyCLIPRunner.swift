import AnomalyCLIP
import CLIP
import Evaluation
import ImageIO

/// AnomalyCLIP behind the CLI's `MethodRunner` face: square resize to the configured side, DPAM features,
/// the summed and smoothed layer maps at that side.
struct AnomalyCLIPRunner: MethodRunner {
    let detector: AnomalyCLIPDetector
    let preprocessor: ImagePreprocessor
    let settings: [(key: String, value: String)]
    let prompts: PromptParameters
    let promptMetadata: [String: String]

    init(options: AnomalyCLIPOptions, clipOptions: CLIPOptions) throws {
        detector = try options.makeDetector(clipOptions: clipOptions)
        (prompts, promptMetadata) = try PromptParameters.load(path: options.prompts ?? "")
        let config = detector.configuration
        preprocessor = ImagePreprocessor(size: config.imageSize, resize: .square)
        settings = [
            ("clip", clipOptions.clip ?? ""), ("prompts", options.prompts ?? ""),
            ("activation", detector.model.activation.rawValue), ("image_size", "\(config.imageSize)"),
            ("layers", config.featureLayers.map(String.init).joined(separator: ",")),
            ("dpam_blocks", "\(config.dpamBlocks)"),
        ]
    }

    var mapSide: Int { detector.configuration.imageSize }
    /// Each layer's map is a probability-like value in [0, 1]; the layers are summed.
    var mapRange: ClosedRange<Float> { 0...Float(detector.configuration.featureLayers.count) }

    func predict(_ image: Image) throws -> MapPrediction {
        let side = mapSide
        let result = detector.detect(preprocessor.tensor(from: image).reshaped([1, 3, side, side]))
        return MapPrediction(map: result.maps[0].scalars, width: side, height: side, score: result.imageScores[0],
                             imageSize: (image.width, image.height))
    }

    func overlayBase(_ image: Image) -> Image { preprocessor.resized(image) }

    var storedThresholds: Thresholds? { Thresholds(metadata: promptMetadata) }
    var trainingImages: [String] { [] }

    /// A ClipAD prompt file (an official .pth is converted) with the thresholds and the run's settings.
    func saveModel(with thresholds: Thresholds, to path: String) throws -> Bool {
        var meta = promptMetadata.filter { !$0.key.hasPrefix("threshold.") }
        meta["activation"] = detector.model.activation.rawValue
        try prompts.save(path: path, configuration: detector.configuration, extraMetadata: meta.merging(thresholds.metadata) { $1 })
        return true
    }
}
