import AnomalyCLIP
import ArgumentParser
import CLIP
import Foundation
import Tensor

/// AnomalyCLIP options shared by `predict` and `eval`: the prompt file and the settings that override what a
/// ClipAD prompt file records.
struct AnomalyCLIPOptions: ParsableArguments {
    @Option(help: "AnomalyCLIP prompt file: the official .pth ({\"prompt_learner\": ...}) or a ClipAD .safetensors.")
    var prompts: String?
    @Option(name: .customLong("image-size"), help: "Square input side (AnomalyCLIP default 518).") var imageSize: Int?
    @Option(help: "Comma-separated 1-based vision layers whose maps are summed (AnomalyCLIP default 24).") var layers: String?
    @Option(name: .customLong("dpam-blocks"), help: "Final vision blocks running DPAM (default: layers - 5, 19 for ViT-L/14).")
    var dpamBlocks: Int?

    func validate() throws {
        if let s = imageSize, s < 14 { throw ValidationError("--image-size must be at least one patch") }
        if let l = layers, Self.parseLayers(l) == nil {
            throw ValidationError("--layers must be comma-separated positive integers, got '\(l)'")
        }
    }

    /// Checks that a prompt file was given (required by every method run).
    func requirePrompts() throws {
        if prompts == nil { throw ValidationError("--prompts PATH is required for --method anomalyclip") }
    }

    static func parseLayers(_ s: String) -> [Int]? {
        let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return parts.compactMap { $0 }
    }

    /// Loads the prompts and CLIP, and builds the detector: settings recorded in a ClipAD prompt file are the
    /// defaults (its activation too, unless --activation is given); flags override them.
    func makeDetector(clipOptions: CLIPOptions) throws -> AnomalyCLIPDetector {
        guard let prompts else { throw ValidationError("--prompts PATH is required for --method anomalyclip") }
        let (promptParameters, metadata) = try PromptParameters.load(path: prompts)
        var options = clipOptions
        if options.activation == nil, let recorded = metadata["activation"].flatMap(Activation.init(rawValue:)) {
            options.activation = recorded
        }
        let model = try options.loadModel()
        let recorded = AnomalyCLIPConfiguration.fromMetadata(metadata)
        var config = recorded ?? AnomalyCLIPConfiguration()
        if recorded == nil {
            config.dpamBlocks = max(1, model.vision.layers - 5)
            config.featureLayers = [min(24, model.vision.layers)]
        }
        if let dpamBlocks { config.dpamBlocks = dpamBlocks }
        if let imageSize { config.imageSize = imageSize }
        if let l = layers.flatMap(Self.parseLayers) { config.featureLayers = l }
        config.contextLength = promptParameters.contextLength
        config.deepPromptDepth = promptParameters.deepPrompts.count + 1
        config.deepPromptTokens = promptParameters.deepPrompts.first?.shape[0] ?? config.deepPromptTokens
        return try AnomalyCLIPDetector(model: model, prompts: promptParameters, configuration: config,
                                       tokenizer: try CLIPTokenizer.shared())
    }
}
