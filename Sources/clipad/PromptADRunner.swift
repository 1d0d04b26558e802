import ArgumentParser
import CLIP
import Evaluation
import ImageIO
import PromptAD
import Tensor

/// PromptAD options of `predict`, `eval` and `calibrate`.
struct PromptADOptions: ParsableArguments {
    @Option(help: "PromptAD model file written by `clipad fit --method promptad`.") var model: String?
    @Option(name: .customLong("map-size"), help: "PromptAD map side N (N x N; default: the model's input size).") var mapSize: Int?

    func validate() throws {
        if let s = mapSize, s < 1 { throw ValidationError("--map-size must be positive") }
    }
}

/// PromptAD behind the CLI's `MethodRunner` face: square resize to the model's input size, the fused
/// textual/visual map smoothed at the map size, the official image score.
struct PromptADRunner: MethodRunner {
    let detector: PromptADDetector
    let preprocessor: ImagePreprocessor
    let mapSide: Int
    let settings: [(key: String, value: String)]
    let metadata: [String: String]

    init(options: PromptADOptions, clipOptions: CLIPOptions) throws {
        guard let path = options.model else { throw ValidationError("--model PATH is required for --method promptad") }
        let (fitted, metadata) = try PromptADModel.load(path: path)
        self.metadata = metadata
        var clip = clipOptions
        if clip.clip == nil { clip.clip = fitted.clipPath }
        let model = try clip.loadModel(recorded: Activation(rawValue: fitted.activation), otherwise: .gelu)
        detector = try PromptADDetector(model: model, fitted: fitted)
        let size = fitted.configuration.imageSize
        preprocessor = ImagePreprocessor(size: size, resize: .square)
        mapSide = options.mapSize ?? size
        settings = [
            ("model", path), ("clip", clip.clip ?? ""), ("activation", model.activation.rawValue),
            ("class_name", fitted.className), ("shots", "\(fitted.shots.count)"), ("image_size", "\(size)"),
            ("memory_feature", fitted.configuration.memoryFeature.rawValue),
            ("score_scale", String(format: "%@ (%.4f)", fitted.configuration.scoreScale.rawValue, fitted.scoreScale)),
        ]
    }

    /// Textual and visual terms are each at most 1, so 1/(1/a + 1/b) is at most 0.5.
    var mapRange: ClosedRange<Float> { 0...0.5 }

    func predict(_ image: Image) throws -> MapPrediction {
        let s = preprocessor.size
        let result = try detector.detect(preprocessor.tensor(from: image).reshaped([1, 3, s, s]), mapSize: mapSide)
        return MapPrediction(map: result.maps.scalars, width: mapSide, height: mapSide, score: result.imageScores[0],
                             imageSize: (image.width, image.height))
    }

    func overlayBase(_ image: Image) -> Image { PillowResize.resize(image, width: mapSide, height: mapSide) }

    var storedThresholds: Thresholds? { Thresholds(metadata: metadata) }
    var trainingImages: [String] { detector.fitted.shots }

    func saveModel(with thresholds: Thresholds, to path: String) throws -> Bool {
        var meta = metadata.filter { !$0.key.hasPrefix("threshold.") }
        meta["threshold.map_size"] = "\(mapSide)"
        try detector.fitted.save(path: path, extraMetadata: meta.merging(thresholds.metadata) { $1 })
        return true
    }
}
