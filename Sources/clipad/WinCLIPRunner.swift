import ArgumentParser
import CLIP
import Evaluation
import Foundation
import ImageIO
import Tensor
import WinCLIP

/// WinCLIP options of `predict`, `eval` and `calibrate`.
struct WinCLIPOptions: ParsableArguments {
    @Option(name: .customLong("class-name"), help: "WinCLIP: object name in the prompt ensemble (anomalib's default: object).")
    var className: String = "object"
    @Option(parsing: .upToNextOption, help: "WinCLIP+: normal reference images (files or folders); none = zero-shot WinCLIP.")
    var shots: [String] = []
}

/// WinCLIP behind the CLI's `MethodRunner` face: square resize to the backbone's native size, the zero-shot (or,
/// with shots, few-shot) map upsampled to that size, no smoothing.
struct WinCLIPRunner: MethodRunner {
    let detector: WinCLIPDetector
    let preprocessor: ImagePreprocessor
    let settings: [(key: String, value: String)]
    let trainingImages: [String]

    init(options: WinCLIPOptions, clipOptions: CLIPOptions) throws {
        // WinCLIP's backbone (OpenCLIP ViT-B-16-plus-240, LAION) uses GELU, like PromptAD's.
        let model = try clipOptions.loadModel(otherwise: .gelu)
        let size = model.vision.nativeImageSize
        preprocessor = ImagePreprocessor(size: size, resize: .square)
        var detector = try WinCLIPDetector(model: model, className: options.className, tokenizer: try CLIPTokenizer.shared())
        let shots = options.shots.isEmpty ? [] : try ImageInputs.expand(options.shots).sorted()
        if !shots.isEmpty {
            // A reference that cannot be read is an error, not a skip: the user chose these images.
            try detector.setReferences(preprocessor.batch(try shots.map { try ImageDecoder.decodeRGB(path: $0) }))
            printError("WinCLIP+: \(shots.count) reference image(s): \(shots.prefix(6).map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))\(shots.count > 6 ? ", ..." : "")")
        }
        self.detector = detector
        trainingImages = shots
        settings = [("clip", clipOptions.clip ?? ""), ("activation", model.activation.rawValue),
                    ("class_name", options.className), ("shots", "\(shots.count)"), ("image_size", "\(size)"),
                    ("scales", detector.scales.map { "\($0.kernel)" }.joined(separator: ","))]
    }

    var mapSide: Int { preprocessor.size }
    /// Class scores and (1 − cos)/2 distances all lie in [0, 1].
    var mapRange: ClosedRange<Float> { 0...1 }

    func predict(_ image: Image) throws -> MapPrediction {
        let s = mapSide
        let result = try detector.detect(preprocessor.tensor(from: image).reshaped([1, 3, s, s]), outputSize: s)
        return MapPrediction(map: result.maps.scalars, width: s, height: s, score: result.imageScores[0],
                             imageSize: (image.width, image.height))
    }

    func overlayBase(_ image: Image) -> Image { preprocessor.resized(image) }

    /// WinCLIP has no model file: `calibrate` writes a thresholds JSON that `predict --thresholds` reads.
    var storedThresholds: Thresholds? { nil }
    func saveModel(with thresholds: Thresholds, to path: String) throws -> Bool { false }
}
