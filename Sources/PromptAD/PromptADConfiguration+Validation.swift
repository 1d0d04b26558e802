import CLIP
import Foundation
import Tensor

// MARK: - Checking settings before they size anything

extension PromptADConfiguration {
    /// Checks the settings on their own (what a model file's metadata may hold); `source` names it in messages.
    public func validate(source: String = "configuration") throws {
        func bad(_ field: String, _ value: String, _ expected: String) -> PromptADError {
            .badConfiguration("\(source): field '\(field)' is \(value), expected \(expected)")
        }
        let tokens = 1...CLIPTokenizer.defaultContextLength
        guard (1...VisionTransformer.maxImageSide).contains(imageSize) else {
            throw bad("imageSize", "\(imageSize)", "1...\(VisionTransformer.maxImageSide)")
        }
        guard sigma.isFinite, GaussianFilter.sigmaRange.contains(sigma) else {
            throw bad("sigma", "\(sigma)", "a finite value in \(GaussianFilter.sigmaRange.lowerBound)...\(GaussianFilter.sigmaRange.upperBound)")
        }
        for (field, value) in [("normalContextTokens", normalContextTokens), ("anomalyContextTokens", anomalyContextTokens)]
        where !tokens.contains(value) {
            throw bad(field, "\(value)", "\(tokens.lowerBound)...\(tokens.upperBound)")
        }
        for (field, value) in [("learnedAnomalyPrompts", learnedAnomalyPrompts), ("classificationNormalPrompts", classificationNormalPrompts),
                               ("segmentationNormalPrompts", segmentationNormalPrompts)] where !(1...1000).contains(value) {
            throw bad(field, "\(value)", "1...1000")
        }
        guard !memoryLayers.isEmpty, memoryLayers.allSatisfy({ (1...1000).contains($0) }) else {
            throw bad("memoryLayers", "\(memoryLayers)", "a non-empty list of 1-based block numbers")
        }
        guard (0...1_000_000).contains(epochs) else { throw bad("epochs", "\(epochs)", "0...1000000") }
        for (field, value) in [("matchWeight", matchWeight), ("learningRate", learningRate), ("momentum", momentum),
                               ("weightDecay", weightDecay), ("minimumLearningRate", minimumLearningRate), ("initStd", initStd)]
        where !value.isFinite || value < 0 {
            throw bad(field, "\(value)", "a finite value >= 0")
        }
    }

    /// `validate(source:)`, then the settings against a loaded model: memory layers within the tower, the input
    /// side within what it takes and a forward pass within the memory budget.
    public func validate(for model: CLIPModel) throws {
        try validate()
        let layers = model.vision.layers
        guard memoryLayers.allSatisfy({ (1...layers).contains($0) }) else {
            throw PromptADError.badConfiguration("memory layers \(memoryLayers) must be in 1...\(layers)")
        }
        try model.vision.checkInputSide(imageSize) { PromptADError.badConfiguration($0) }
    }
}
