import Checkpoint
import Foundation
import Tensor

/// A CLIP model (vision + text towers) loaded from a real checkpoint or built with random weights.
public final class CLIPModel: Sendable {
    public let vision: VisionTransformer
    public let text: TextTransformer
    /// The `logit_scale` parameter (log of the temperature), when the checkpoint has one.
    public let logitScale: Float?
    public let activation: Activation
    /// Where the activation choice came from, for a one-line notice.
    public let activationSource: ActivationSource
    public let source: String

    public var architecture: CLIPArchitecture { CLIPArchitecture(vision: vision, text: text, activation: activation) }

    /// Keys a CLIP checkpoint may carry that the encoders do not use.
    static let ignoredKeys = ["logit_scale", "logit_bias", "input_resolution", "context_length", "vocab_size"]
    static let ignoredLastComponents: Set<String> = ["attn_mask", "position_ids"]

    public init(weights: WeightSource, activation: Activation, activationSource: ActivationSource) throws {
        vision = try VisionTransformer(weights: weights, activation: activation)
        text = try TextTransformer(weights: weights, activation: activation)
        if let scale = weights.optionalTensor("logit_scale") {
            guard scale.count == 1, scale.rank <= 1 else {
                throw CLIPLoadError.wrongShape(file: weights.file, key: "logit_scale", got: scale.shape, expected: [])
            }
            // log of the inverse temperature: finite, or every softmax over its logits is NaN
            guard scale[flat: 0].isFinite else {
                throw CLIPLoadError.badConfig(file: weights.file, reason: "tensor 'logit_scale' is \(scale[flat: 0]), expected a finite log inverse temperature")
            }
            logitScale = scale[flat: 0]
        } else {
            logitScale = nil
        }
        self.activation = activation
        self.activationSource = activationSource
        source = weights.file
        try weights.checkAllUsed(ignoring: CLIPModel.ignoredKeys)
        if text.projection.shape[1] != vision.outputDim {
            throw CLIPLoadError.wrongShape(file: weights.file, key: "text_projection", got: text.projection.shape,
                                           expected: [text.width, vision.outputDim])
        }
    }

    // MARK: - Loading

    /// Loads a safetensors, torch.save or TorchScript CLIP checkpoint in OpenAI/OpenCLIP or Hugging Face layout.
    /// The activation is `override`, else read from a config beside the file, else QuickGELU.
    public static func load(path: String, activation override: Activation? = nil) throws -> CLIPModel {
        let checkpoint = try Checkpoint.load(path: path)
        // Handed over with `consume`: the source alone holds the weights, so each linear weight it gives away to be
        // transposed (`WeightSource.linearWeight`) is freed, not kept here for the whole load.
        var tensors: [String: Tensor] = [:]
        for (name, entry) in checkpoint.tensors where entry.dtype.isFloatingPoint {
            let last = name.split(separator: ".").last.map(String.init) ?? name
            if ignoredLastComponents.contains(last) { continue }
            tensors[name] = try entry.toTensor()
        }
        let weights = WeightSource(file: path, tensors: CheckpointLayout.sanitize(consume tensors))
        let (activation, source) = try ActivationSource.resolve(
            checkpointPath: path, override: override,
            isTorchScript: checkpoint.format == .torchScript, metadata: checkpoint.metadata)
        return try CLIPModel(weights: weights, activation: activation, activationSource: source)
    }

    /// A model with deterministic random weights of a given architecture (benchmarks, the demo, tests).
    public static func random(_ arch: CLIPArchitecture, seed: UInt64 = 0, activation: Activation? = nil) throws -> CLIPModel {
        let act = activation ?? ((arch.quickGELU ?? false) ? .quickGELU : .gelu)
        return try CLIPModel(weights: WeightSource(file: "random(seed \(seed))", tensors: randomWeights(arch, seed: seed)), activation: act,
                             activationSource: activation == nil ? .architecture : .override)
    }

    /// The checkpoint tensors (OpenAI layout) of `random`, e.g. to write a random-weight checkpoint file.
    public static func randomWeights(_ arch: CLIPArchitecture, seed: UInt64 = 0) -> [String: Tensor] {
        var rng = SeededGenerator(seed: seed)
        var t: [String: Tensor] = [:]
        let v = arch.vision, tx = arch.text, e = arch.embedDim
        func normal(_ shape: [Int], _ std: Float, mean: Float = 0) -> Tensor { .randomNormal(shape, mean: mean, std: std, using: &rng) }
        func block(_ prefix: String, _ w: Int) {
            t["\(prefix).ln_1.weight"] = normal([w], 0.02, mean: 1); t["\(prefix).ln_1.bias"] = normal([w], 0.02)
            t["\(prefix).attn.in_proj_weight"] = normal([3 * w, w], 1 / Float(w).squareRoot())
            t["\(prefix).attn.in_proj_bias"] = normal([3 * w], 0.02)
            t["\(prefix).attn.out_proj.weight"] = normal([w, w], 1 / Float(w).squareRoot())
            t["\(prefix).attn.out_proj.bias"] = normal([w], 0.02)
            t["\(prefix).ln_2.weight"] = normal([w], 0.02, mean: 1); t["\(prefix).ln_2.bias"] = normal([w], 0.02)
            t["\(prefix).mlp.c_fc.weight"] = normal([4 * w, w], 1 / Float(w).squareRoot())
            t["\(prefix).mlp.c_fc.bias"] = normal([4 * w], 0.02)
            t["\(prefix).mlp.c_proj.weight"] = normal([w, 4 * w], 1 / Float(4 * w).squareRoot())
            t["\(prefix).mlp.c_proj.bias"] = normal([w], 0.02)
        }
        t["visual.conv1.weight"] = normal([v.width, 3, v.patchSize, v.patchSize], 1 / Float(3 * v.patchSize * v.patchSize).squareRoot())
        t["visual.class_embedding"] = normal([v.width], 0.1)
        t["visual.positional_embedding"] = normal([v.grid * v.grid + 1, v.width], 0.1)
        t["visual.ln_pre.weight"] = normal([v.width], 0.02, mean: 1); t["visual.ln_pre.bias"] = normal([v.width], 0.02)
        for i in 0..<v.layers { block("visual.transformer.resblocks.\(i)", v.width) }
        t["visual.ln_post.weight"] = normal([v.width], 0.02, mean: 1); t["visual.ln_post.bias"] = normal([v.width], 0.02)
        t["visual.proj"] = normal([v.width, e], 1 / Float(v.width).squareRoot())
        t["token_embedding.weight"] = normal([tx.vocabularySize, tx.width], 0.02)
        t["positional_embedding"] = normal([tx.contextLength, tx.width], 0.01)
        for i in 0..<tx.layers { block("transformer.resblocks.\(i)", tx.width) }
        t["ln_final.weight"] = normal([tx.width], 0.02, mean: 1); t["ln_final.bias"] = normal([tx.width], 0.02)
        t["text_projection"] = normal([tx.width, e], 1 / Float(tx.width).squareRoot())
        t["logit_scale"] = Tensor(shape: [], scalars: [Float(log(1 / 0.07))])
        return t
    }

    // MARK: - Encoders

    /// encode_image: [B, 3, H, W] normalised pixels -> [B, E], unnormalised. Input-driven callers use
    /// `encodeImage(validating:)`.
    public func encodeImage(_ images: Tensor) -> Tensor { vision.forward(images).embedding }

    /// encode_text: padded token ids [B][L] -> [B, E], unnormalised. Input-driven callers use `encodeText(validating:)`.
    public func encodeText(ids: [[Int]]) -> Tensor { text.forward(ids: ids) }

    /// `encodeImage` after `vision.validate(imageShape:)`: a bad shape, side or memory need is a thrown error.
    public func encodeImage(validating images: Tensor) throws -> Tensor {
        try vision.validate(imageShape: images.shape)
        return encodeImage(images)
    }

    /// `encodeText` after `text.validate(ids:)`: ids outside the vocabulary or texts longer than the context throw.
    public func encodeText(validating ids: [[Int]]) throws -> Tensor {
        try text.validate(ids: ids)
        return encodeText(ids: ids)
    }
}
