import AnomalyCLIP
import Checkpoint
import CLIP

/// A bundled architecture with random weights and random AnomalyCLIP prompts (the backbone's default
/// configuration), written as files a spec can name: what the demo runs without a checkpoint and what load tests
/// serve. Never a trained model.
public enum RandomModelFiles {
    /// Writes `clip` (safetensors) and `prompts` (a ClipAD prompt file); returns the prompts' configuration.
    @discardableResult
    public static func write(architecture name: String, weightSeed: UInt64, promptSeed: UInt64,
                             clip: String, prompts: String, defaults: MethodDefaults = .shared) throws -> AnomalyCLIPConfiguration {
        try SafetensorsWriter.write(CLIPModel.randomWeights(CLIPArchitecture.bundled(name), seed: weightSeed), to: clip)
        let model = try CLIPModel.load(path: clip)
        let config = defaults.anomalyCLIPConfiguration(model: model)
        try PromptParameters.random(width: model.text.width, configuration: config, seed: promptSeed).save(path: prompts, configuration: config)
        return config
    }
}
