import AnomalyCLIP
import CLIP
import Foundation
import Tensor

/// The defaults of every method, read once from `Resources/method-defaults.json` (the one place they are written):
/// per-backbone values for the bundled architectures, and rules for any other checkpoint.
public struct MethodDefaults: Decodable, Sendable {
    public struct Values: Decodable, Sendable {
        public var imageSize: Int?
        public var featureLayers: [Int]?
        /// Rule for other backbones: the last layer, capped at this (AnomalyCLIP's official layer 24).
        public var featureLayersAtMost: Int?
        public var dpamBlocks: Int?
        /// Rule for other backbones: DPAM on every block after the first N (official: 24 blocks, DPAM_layer 20 -> 19).
        public var dpamBlocksSkipFirst: Int?
        public var className: String?
        public var activation: String?
        /// AnomalyCLIP + shots: the banked layers (APRIL-GAN's few-shot layers 6, 12, 18, 24 of a 24-block tower).
        public var bankLayers: [Int]?
        /// Rule for other backbones: these fractions of the depth, rounded, each at least block 1 (quarters).
        public var bankLayerFractions: [Double]?

        enum CodingKeys: String, CodingKey {
            case imageSize = "image_size", featureLayers = "feature_layers", featureLayersAtMost = "feature_layers_at_most"
            case dpamBlocks = "dpam_blocks", dpamBlocksSkipFirst = "dpam_blocks_skip_first", className = "class_name", activation
            case bankLayers = "bank_layers", bankLayerFractions = "bank_layer_fractions"
        }
    }

    public var methods: [String: Values]
    public var backbones: [String: [String: Values]]

    /// The bundled table.
    public static let shared: MethodDefaults = {
        guard let url = Bundle.module.url(forResource: "method-defaults", withExtension: "json"),
              let data = try? Data(contentsOf: url),
              let table = try? JSONDecoder().decode(MethodDefaults.self, from: data) else {
            fatalError("the bundled Resources/method-defaults.json is missing or malformed (a build problem, not input)")
        }
        return table
    }()

    // MARK: - Resolved values for a loaded backbone

    func method(_ m: DetectionMethod) -> Values { methods[m.rawValue] ?? Values() }

    func backbone(_ model: CLIPModel, _ m: DetectionMethod) -> Values? {
        BackboneName.identify(model).flatMap { backbones[$0]?[m.rawValue] }
    }

    /// Input side: the backbone's entry, else the method's, else the checkpoint's native size.
    public func imageSize(_ m: DetectionMethod, model: CLIPModel) -> Int {
        backbone(model, m)?.imageSize ?? method(m).imageSize ?? model.vision.nativeImageSize
    }

    /// AnomalyCLIP's summed layers.
    public func featureLayers(model: CLIPModel) -> [Int] {
        if let layers = backbone(model, .anomalyclip)?.featureLayers { return layers }
        return [min(method(.anomalyclip).featureLayersAtMost ?? model.vision.layers, model.vision.layers)]
    }

    /// AnomalyCLIP's DPAM block count.
    public func dpamBlocks(model: CLIPModel) -> Int {
        if let blocks = backbone(model, .anomalyclip)?.dpamBlocks { return blocks }
        return max(1, model.vision.layers - (method(.anomalyclip).dpamBlocksSkipFirst ?? 0))
    }

    /// AnomalyCLIP's configuration for a backbone from these defaults alone (input side, summed layers, DPAM blocks,
    /// deep prompts no deeper than the text tower): what train, demo, bench and a prompt file without metadata use.
    public func anomalyCLIPConfiguration(model: CLIPModel) -> AnomalyCLIPConfiguration {
        var c = AnomalyCLIPConfiguration()
        c.imageSize = imageSize(.anomalyclip, model: model)
        c.featureLayers = featureLayers(model: model)
        c.dpamBlocks = dpamBlocks(model: model)
        c.deepPromptDepth = min(c.deepPromptDepth, model.text.layers)
        return c
    }

    /// AnomalyCLIP + shots: the banked layers: the backbone's entry, else the fractions rule (ascending, distinct).
    public func bankLayers(model: CLIPModel) -> [Int] {
        if let layers = backbone(model, .anomalyclip)?.bankLayers { return layers }
        let depth = model.vision.layers
        let fractions = method(.anomalyclip).bankLayerFractions ?? [1]
        return Array(Set(fractions.map { min(depth, max(1, Int(($0 * Double(depth)).rounded()))) })).sorted()
    }

    /// The activation a method assumes when neither the user, the model file nor the checkpoint says (nil: the
    /// engine's own guess, QuickGELU, as OpenAI's checkpoints use).
    public func activation(_ m: DetectionMethod) -> Activation? { method(m).activation.flatMap(Activation.init(rawValue:)) }

    public func className(_ m: DetectionMethod) -> String { method(m).className ?? "object" }
}

/// The bundled architecture a loaded model has, if any (matched on every dimension, not on a name).
public enum BackboneName {
    public static func identify(_ model: CLIPModel) -> String? {
        let a = model.architecture
        for name in CLIPArchitecture.bundledNames {
            guard let b = try? CLIPArchitecture.bundled(name) else { continue }
            if a.vision == b.vision && a.embedDim == b.embedDim && a.text.width == b.text.width && a.text.layers == b.text.layers {
                return name
            }
        }
        return nil
    }
}
