import CLIP
import Foundation
import Tensor

// MARK: - Checking settings before they size anything

extension AnomalyCLIPConfiguration {
    /// Ranges of the settings that size buffers or divide: anything outside is an error, not a crash.
    public static let imageSizeRange = 1...VisionTransformer.maxImageSide
    /// Learned tokens can never exceed CLIP's 77-token context.
    public static let tokenRange = 0...CLIPTokenizer.defaultContextLength

    /// Checks the settings on their own (what a prompt file's metadata may hold): sizes, temperature, sigma.
    /// `source` names the file or flag set in the message.
    public func validate(source: String = "configuration") throws {
        func bad(_ field: String, _ value: String, _ expected: String) -> AnomalyCLIPError {
            .badConfiguration("\(source): field '\(field)' is \(value), expected \(expected)")
        }
        guard Self.imageSizeRange.contains(imageSize) else {
            throw bad("image_size", "\(imageSize)", "\(Self.imageSizeRange.lowerBound)...\(Self.imageSizeRange.upperBound)")
        }
        guard temperature.isFinite, temperature > 0 else { throw bad("temperature", "\(temperature)", "a finite value > 0") }
        guard sigma.isFinite, GaussianFilter.sigmaRange.contains(sigma) else {
            throw bad("sigma", "\(sigma)", "a finite value in \(GaussianFilter.sigmaRange.lowerBound)...\(GaussianFilter.sigmaRange.upperBound)")
        }
        guard (1...Self.tokenRange.upperBound).contains(contextLength) else {
            throw bad("n_ctx", "\(contextLength)", "1...\(Self.tokenRange.upperBound)")
        }
        guard Self.tokenRange.contains(deepPromptTokens) else {
            throw bad("t_n_ctx", "\(deepPromptTokens)", "\(Self.tokenRange.lowerBound)...\(Self.tokenRange.upperBound)")
        }
        guard (0...1000).contains(deepPromptDepth) else { throw bad("depth", "\(deepPromptDepth)", "0...1000") }
        guard dpamBlocks >= 1, dpamBlocks <= 1000 else { throw bad("dpam_blocks", "\(dpamBlocks)", "1...1000") }
        guard !featureLayers.isEmpty, featureLayers.allSatisfy({ (1...1000).contains($0) }) else {
            throw bad("feature_layers", "\(featureLayers)", "a non-empty list of 1-based block numbers")
        }
    }

    /// Checks the settings against a loaded model: `validate(source:)`, then blocks within the tower, the
    /// input side within what the vision tower takes (and its memory within the budget), and the prompts
    /// within the text tower's context.
    public func validate(for model: CLIPModel, tokenizer: CLIPTokenizer) throws {
        try validate()
        let layers = model.vision.layers
        guard dpamBlocks >= 1 && dpamBlocks <= layers else {
            throw AnomalyCLIPError.badConfiguration("DPAM blocks \(dpamBlocks) must be in 1...\(layers)")
        }
        guard featureLayers.allSatisfy({ (1...layers).contains($0) }) else {
            throw AnomalyCLIPError.badConfiguration("feature layers \(featureLayers) must be in 1...\(layers)")
        }
        try model.vision.checkInputSide(imageSize) { AnomalyCLIPError.badConfiguration($0) }
        try PromptTextEncoder.checkFits(model: model, configuration: self, tokenizer: tokenizer)
    }
}
