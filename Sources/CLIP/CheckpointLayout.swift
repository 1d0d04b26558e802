import Foundation
import Tensor

/// Renames checkpoint keys into the OpenAI/OpenCLIP layout the model structs use.
///
/// All renaming lives in this one list of rules (Hugging Face `CLIPModel` -> OpenAI), applied in one sanitize step.
public enum CheckpointLayout {
    /// Whole-key or prefix renames, applied first match wins.
    static let renames: [(from: String, to: String)] = [
        ("vision_model.embeddings.patch_embedding.weight", "visual.conv1.weight"),
        ("vision_model.embeddings.class_embedding", "visual.class_embedding"),
        ("vision_model.embeddings.position_embedding.weight", "visual.positional_embedding"),
        ("vision_model.pre_layrnorm.", "visual.ln_pre."),
        ("vision_model.post_layernorm.", "visual.ln_post."),
        ("vision_model.encoder.layers.", "visual.transformer.resblocks."),
        ("text_model.embeddings.token_embedding.weight", "token_embedding.weight"),
        ("text_model.embeddings.position_embedding.weight", "positional_embedding"),
        ("text_model.final_layer_norm.", "ln_final."),
        ("text_model.encoder.layers.", "transformer.resblocks."),
    ]
    /// Renames inside a block.
    static let blockRenames: [(from: String, to: String)] = [
        (".self_attn.out_proj.", ".attn.out_proj."),
        (".layer_norm1.", ".ln_1."),
        (".layer_norm2.", ".ln_2."),
        (".mlp.fc1.", ".mlp.c_fc."),
        (".mlp.fc2.", ".mlp.c_proj."),
    ]
    /// Hugging Face Linear projections stored [out, in]; OpenAI keeps the matrix [in, out].
    static let transposedProjections = [("visual_projection.weight", "visual.proj"), ("text_projection.weight", "text_projection")]
    /// Keys carrying no weights the model needs.
    static let droppedSuffixes = ["position_ids"]
    /// Wrappers some training scripts add around a state dict.
    static let wrapperPrefixes = ["state_dict.", "model.", "module."]

    public static func isHuggingFace(_ keys: some Collection<String>) -> Bool {
        keys.contains { $0.hasPrefix("vision_model.") || $0.hasPrefix("text_model.") }
    }

    /// Returns the tensors keyed in OpenAI layout.
    public static func sanitize(_ tensors: [String: Tensor]) -> [String: Tensor] {
        var tensors = tensors
        for prefix in wrapperPrefixes where !tensors.isEmpty && tensors.keys.allSatisfy({ $0.hasPrefix(prefix) }) {
            tensors = Dictionary(uniqueKeysWithValues: tensors.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        guard isHuggingFace(tensors.keys) else { return tensors }

        var out: [String: Tensor] = [:]
        var qkv: [String: [String: Tensor]] = [:]   // block prefix -> {"q.weight": ...}
        for (key, value) in tensors {
            if droppedSuffixes.contains(where: { key.hasSuffix($0) }) { continue }
            if let (_, to) = transposedProjections.first(where: { $0.0 == key }) {
                out[to] = value.transposed()
                continue
            }
            var name = key
            if let rule = renames.first(where: { name.hasPrefix($0.from) }) {
                name = rule.to + name.dropFirst(rule.from.count)
            }
            for rule in blockRenames { name = name.replacingOccurrences(of: rule.from, with: rule.to) }
            if let range = name.range(of: ".self_attn.") {
                let block = String(name[..<range.lowerBound])
                let part = String(name[range.upperBound...])   // e.g. "q_proj.weight"
                qkv[block, default: [:]][part] = value
                continue
            }
            out[name] = value
        }
        // Merge q/k/v projections into one in_proj, in that order (nn.MultiheadAttention's packing).
        for (block, parts) in qkv {
            for kind in ["weight", "bias"] {
                let pieces = ["q", "k", "v"].compactMap { parts["\($0)_proj.\(kind)"] }
                // Packing needs three equal shapes; anything else stays unmerged and is reported by strict loading.
                if pieces.count == 3, pieces.allSatisfy({ $0.shape == pieces[0].shape && $0.rank >= 1 }) {
                    out["\(block).attn.in_proj_\(kind)"] = Tensor.concatenate(pieces)
                } else {
                    for (p, t) in parts where p.hasSuffix(kind) { out["\(block).self_attn.\(p)"] = t }  // reported as unexpected
                }
            }
        }
        return out
    }
}
