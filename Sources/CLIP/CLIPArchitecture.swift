import Foundation
import Tensor

/// A CLIP architecture in open_clip's `model_configs/*.json` format (also the `model_cfg` of an
/// `open_clip_config.json`), so bundled configs and configs beside a checkpoint decode the same way.
public struct CLIPArchitecture: Codable, Equatable, Sendable {
    public struct Vision: Codable, Equatable, Sendable {
        public var imageSize: Int
        public var layers: Int
        public var width: Int
        public var patchSize: Int
        enum CodingKeys: String, CodingKey { case imageSize = "image_size", layers, width, patchSize = "patch_size" }
        public var grid: Int { imageSize / patchSize }
        public var heads: Int { CLIPArchitecture.heads(forWidth: width) }
    }
    public struct Text: Codable, Equatable, Sendable {
        public var contextLength: Int
        public var vocabularySize: Int
        public var width: Int
        public var heads: Int?
        public var layers: Int
        enum CodingKeys: String, CodingKey {
            case contextLength = "context_length", vocabularySize = "vocab_size", width, heads, layers
        }
    }

    public var embedDim: Int
    public var quickGELU: Bool?
    public var vision: Vision
    public var text: Text

    enum CodingKeys: String, CodingKey { case embedDim = "embed_dim", quickGELU = "quick_gelu", vision = "vision_cfg", text = "text_cfg" }

    /// CLIP ViTs use 64-wide attention heads throughout.
    public static func heads(forWidth width: Int) -> Int { max(1, width / 64) }

    /// Number of blocks `prefix0.`, `prefix1.`, ... present among `keys`.
    static func countBlocks(in keys: some Collection<String>, prefix: String) -> Int {
        var indices = Set<Int>()
        for key in keys where key.hasPrefix(prefix) {
            let rest = key.dropFirst(prefix.count)
            if let n = Int(rest.prefix { $0.isNumber }) { indices.insert(n) }
        }
        return indices.count
    }

    // MARK: - Bundled architectures

    /// Names of the bundled configs (`--arch`), e.g. "ViT-B-16", "ViT-L-14-336".
    public static var bundledNames: [String] {
        guard let dir = Bundle.module.url(forResource: "architectures", withExtension: nil),
              let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    public static func bundled(_ name: String) throws -> CLIPArchitecture {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "architectures") else {
            throw CLIPLoadError.badConfig(file: name, reason: "unknown architecture; known: \(bundledNames.joined(separator: ", "))")
        }
        return try JSONDecoder().decode(CLIPArchitecture.self, from: Data(contentsOf: url))
    }

    /// The architecture a loaded model has (read back from its tensors).
    init(vision v: VisionTransformer, text t: TextTransformer, activation: Activation) {
        embedDim = v.outputDim
        quickGELU = activation == .quickGELU
        vision = Vision(imageSize: v.nativeImageSize, layers: v.layers, width: v.width, patchSize: v.patchSize)
        text = Text(contextLength: t.contextLength, vocabularySize: t.vocabularySize, width: t.width,
                    heads: CLIPArchitecture.heads(forWidth: t.width), layers: t.layers)
    }
}
