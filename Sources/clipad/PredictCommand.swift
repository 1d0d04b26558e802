import AnomalyCLIP
import ArgumentParser
import CLIP
import Evaluation
import Foundation
import ImageIO
import Tensor

/// `clipad predict`: anomaly scores (and maps) for images with a chosen method.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score images (scores.jsonl) and write anomaly maps (.npy or PNG overlays).")

    enum Method: String, ExpressibleByArgument, CaseIterable { case anomalyclip, promptad, winclip }

    @Option(help: "Method: \(Method.allCases.map(\.rawValue).joined(separator: ", ")).") var method: Method
    @OptionGroup var clipOptions: CLIPOptions
    @Option(help: "AnomalyCLIP prompt file: the official .pth ({\"prompt_learner\": ...}) or a ClipAD .safetensors.")
    var prompts: String?
    @Option(name: .customLong("image-size"), help: "Square input side (AnomalyCLIP default 518).") var imageSize: Int?
    @Option(help: "Comma-separated 1-based vision layers whose maps are summed (AnomalyCLIP default 24).") var layers: String?
    @Option(name: .customLong("dpam-blocks"), help: "Final vision blocks running DPAM (default: layers - 5, 19 for ViT-L/14).")
    var dpamBlocks: Int?
    @Option(help: "Output folder.") var output: String = "predictions"
    @Option(help: "Per-image maps: npy | png | none.") var maps: PredictionWriter.MapFormat = .npy
    @Argument(help: "Image files or folders (searched recursively).") var inputs: [String]

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one image or folder") }
        if method != .anomalyclip {
            throw ValidationError("--method \(method.rawValue) is not available yet in this build (anomalyclip is)")
        }
        if clipOptions.clip == nil { throw ValidationError("--clip PATH is required") }
        if prompts == nil { throw ValidationError("--prompts PATH is required for --method anomalyclip") }
        if let s = imageSize, s < 14 { throw ValidationError("--image-size must be at least one patch") }
        if let l = layers, parseLayers(l) == nil { throw ValidationError("--layers must be comma-separated positive integers, got '\(l)'") }
    }

    func parseLayers(_ s: String) -> [Int]? {
        let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return parts.compactMap { $0 }
    }

    func run() throws {
        let images = try ImageInputs.expand(inputs)
        let (promptParameters, metadata) = try PromptParameters.load(path: prompts!)
        // A ClipAD prompt file records the activation of the CLIP it was trained with.
        var options = clipOptions
        if options.activation == nil, let recorded = metadata["activation"].flatMap(Activation.init(rawValue:)) {
            options.activation = recorded
        }
        let model = try options.loadModel()
        // Settings recorded in a ClipAD prompt file are the defaults; flags override them.
        let recorded = AnomalyCLIPConfiguration.fromMetadata(metadata)
        var config = recorded ?? AnomalyCLIPConfiguration()
        if recorded == nil {
            config.dpamBlocks = max(1, model.vision.layers - 5)
            config.featureLayers = [min(24, model.vision.layers)]
        }
        if let dpamBlocks { config.dpamBlocks = dpamBlocks }
        if let imageSize { config.imageSize = imageSize }
        if let l = layers.flatMap(parseLayers) { config.featureLayers = l }
        config.contextLength = promptParameters.contextLength
        config.deepPromptDepth = promptParameters.deepPrompts.count + 1
        config.deepPromptTokens = promptParameters.deepPrompts.first?.shape[0] ?? config.deepPromptTokens
        let detector = try AnomalyCLIPDetector(model: model, prompts: promptParameters, configuration: config,
                                               tokenizer: try CLIPTokenizer.shared())
        let preprocessor = ImagePreprocessor(size: config.imageSize, resize: .square)
        let writer = try PredictionWriter(directory: output, mapFormat: maps)
        var progress = ProgressLine(total: images.count, label: "predict")
        var failures = 0
        for path in images {
            do {
                let decoded = try ImageDecoder.decodeRGB(path: path)
                let pixels = preprocessor.tensor(from: decoded)
                let result = detector.detect(pixels.reshaped([1, 3, config.imageSize, config.imageSize]))
                let stem = writer.uniqueStem(for: path)
                let map = result.maps[0]
                switch maps {
                case .npy: try writer.writeMap(map.scalars, height: config.imageSize, width: config.imageSize, stem: stem)
                case .png:
                    let heat = ColorMap.turbo.colorize(map.scalars, width: config.imageSize, height: config.imageSize,
                                                       range: 0...Float(config.featureLayers.count))
                    let overlay = ColorMap.blend(preprocessor.resized(decoded), heat, alpha: 0.5)
                    try ImageEncoder.write(overlay, to: (output as NSString).appendingPathComponent("\(stem).png"))
                case .none: break
                }
                writer.record(image: path, score: result.imageScores[0])
            } catch {
                failures += 1
                progress.interrupt("error: \(error)")
            }
            progress.advance()
        }
        try writer.finish()
        progress.finish("wrote \(images.count - failures) result(s) to \((output as NSString).appendingPathComponent("scores.jsonl"))")
        if failures > 0 {
            printError("\(failures) of \(images.count) image(s) failed")
            throw ExitCode(1)
        }
    }
}

extension PredictionWriter.MapFormat: ExpressibleByArgument {}
