import CLIP
import Tensor

/// What PromptAD takes from the frozen vision tower (official `V2VTransformer.forward` + `PromptAD.encode_image`),
/// every feature L2-normalised:
/// - global: ln_post(original-path class token) · proj, [N, E];
/// - tokens: the V-V path (on ALL blocks, CLIP Surgery style) patch tokens -> ln_post -> proj, [N, P, E];
/// - memory: original-path patch tokens of the memory layers, before ln_post, [N, P, W] each (see
///   `PromptADConfiguration.MemoryFeature` for which state exactly).
public struct PromptADImageFeatures: Sendable {
    public var global: Tensor
    public var tokens: Tensor
    public var memory: [Tensor]

    /// images: [N, 3, S, S] normalised pixels.
    public static func compute(_ images: Tensor, model: CLIPModel, configuration c: PromptADConfiguration) throws -> PromptADImageFeatures {
        try model.vision.validate(imageShape: images.shape)
        let vision = model.vision, layers = vision.layers
        let official = c.memoryFeature == .official
        for l in c.memoryLayers where !(1...(official ? layers - 1 : layers)).contains(l) {
            throw PromptADError.badConfiguration("memory layer \(l) must be in 1...\(official ? layers - 1 : layers) for a \(layers)-block vision tower\(official ? " (the official feature is the next block's post-attention state)" : "")")
        }
        // Of the last block's original path only the class token is used (the global feature), unless a memory
        // layer reads that block's tokens.
        let lastBlockFeedsMemory = c.memoryLayers.contains(official ? layers - 1 : layers)
        let out = vision.forwardDualPath(images, firstDualBlock: 1,
                                         outputLayers: Set([layers] + (official ? [] : c.memoryLayers)),
                                         postAttentionLayers: official ? Set(c.memoryLayers.map { $0 + 1 }) : [],
                                         finalClassTokenOnly: !lastBlockFeedsMemory)
        let memory = c.memoryLayers.map { l in
            (official ? out.postAttentionTokens[l + 1]! : out.originalTokens[l]!).droppingClassToken().l2NormalizedRows()
        }
        let tokens = vision.projectTokens(out.valueValueTokens[layers]!.droppingClassToken()).l2NormalizedRows()
        return PromptADImageFeatures(global: vision.pool(out.finalOriginal).l2Normalized(), tokens: tokens, memory: memory)
    }

    /// Concatenates per-image features of several batches along the image axis.
    public static func concatenate(_ parts: [PromptADImageFeatures]) -> PromptADImageFeatures {
        PromptADImageFeatures(global: Tensor.concatenate(parts.map(\.global)),
                              tokens: Tensor.concatenate(parts.map(\.tokens)),
                              memory: (0..<(parts.first?.memory.count ?? 0)).map { i in Tensor.concatenate(parts.map { $0.memory[i] }) })
    }
}

extension Tensor {
    /// L2-normalises along the last dimension whatever the rank.
    func l2NormalizedRows() -> Tensor {
        let w = shape[rank - 1]
        return reshaped([count / w, w]).l2Normalized().reshaped(shape)
    }
}
