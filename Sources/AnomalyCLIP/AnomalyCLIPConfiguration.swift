import Foundation

/// AnomalyCLIP's settings, with the official defaults (zqhang/AnomalyCLIP `test.py` / `train.py`).
public struct AnomalyCLIPConfiguration: Codable, Equatable, Sendable {
    /// Square input side; the whole image is resized (no aspect keep).
    public var imageSize: Int = 518
    /// 1-based vision blocks whose V-V tokens give patch features (official scripts use 6,12,18,24; ClipAD's default is 24).
    public var featureLayers: [Int] = [24]
    /// Number of final vision blocks that run DPAM (official DPAM_layer = 20 → the last 19 blocks).
    public var dpamBlocks: Int = 19
    /// Learnable context vectors per prompt ("Prompt_length", n_ctx).
    public var contextLength: Int = 12
    /// Deep text prompt depth ("learnabel_text_embedding_depth"): layers 2...depth get inserted tokens.
    public var deepPromptDepth: Int = 9
    /// Tokens per deep prompt set ("learnabel_text_embedding_length", t_n_ctx).
    public var deepPromptTokens: Int = 4
    /// Softmax temperature of the cosine logits.
    public var temperature: Float = 0.07
    /// Gaussian smoothing of the final map (scipy.ndimage.gaussian_filter sigma).
    public var sigma: Double = 4

    public init() {}

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", featureLayers = "feature_layers", dpamBlocks = "dpam_blocks"
        case contextLength = "n_ctx", deepPromptDepth = "depth", deepPromptTokens = "t_n_ctx", temperature, sigma
    }
}

extension AnomalyCLIPConfiguration {
    /// The configuration recorded in a ClipAD prompt file's metadata, if any.
    public static func fromMetadata(_ metadata: [String: String]) -> AnomalyCLIPConfiguration? {
        guard let json = metadata["configuration"], let data = json.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(AnomalyCLIPConfiguration.self, from: data)
    }
}
