import Foundation
import Tensor

/// The CLIP vision tower (ViT), keys under `visual.` in OpenAI/OpenCLIP checkpoints.
public struct VisionTransformer: Sendable {
    public let patchEmbedding: Tensor       // conv1.weight [W, 3, p, p] (no bias), flattened to [W, 3*p*p]
    public let classEmbedding: Tensor       // class_embedding [W]
    public let positionalEmbedding: Tensor  // positional_embedding [1 + g*g, W]
    public let lnPreWeight: Tensor, lnPreBias: Tensor    // ln_pre
    public let blocks: [TransformerBlock]                // transformer.resblocks.N
    public let lnPostWeight: Tensor, lnPostBias: Tensor  // ln_post
    public let projection: Tensor                        // proj [W, E]

    public let patchSize: Int
    public let trainedGrid: Int
    public var width: Int { classEmbedding.count }
    public var outputDim: Int { projection.shape[1] }
    public var layers: Int { blocks.count }
    /// Image side the positional embedding was trained for.
    public var nativeImageSize: Int { trainedGrid * patchSize }
    /// How the positional grid is resized for other input sizes (AnomalyCLIP: bilinear).
    public var positionalResize: Interpolation.Mode = .bilinear

    init(weights: WeightSource, activation: Activation) throws {
        let conv = try weights.tensor("visual.conv1.weight")
        guard conv.rank == 4, conv.shape[1] == 3, conv.shape[2] == conv.shape[3], conv.shape[0] >= 1 else {
            throw CLIPLoadError.wrongShape(file: weights.file, key: "visual.conv1.weight", got: conv.shape,
                                           expected: [max(conv.shape.first ?? 768, 1), 3, 16, 16])
        }
        let width = conv.shape[0], patch = conv.shape[2]
        // Every input side is divided by the patch size.
        guard patch >= 1 else {
            throw CLIPLoadError.badConfig(file: weights.file, reason: "tensor 'visual.conv1.weight' has shape \(conv.shape): a patch size of 0 (expected [\(width), 3, p, p] with p >= 1)")
        }
        patchSize = patch
        patchEmbedding = conv.reshaped([width, 3 * patch * patch])
        classEmbedding = try weights.tensor("visual.class_embedding", shape: [width])
        positionalEmbedding = try weights.tensor("visual.positional_embedding")
        let tokens = positionalEmbedding.shape.first ?? 0
        let grid = Int(Double(max(tokens - 1, 0)).squareRoot().rounded())
        guard positionalEmbedding.rank == 2, grid >= 1, grid * grid + 1 == tokens, positionalEmbedding.shape[1] == width else {
            throw CLIPLoadError.wrongShape(file: weights.file, key: "visual.positional_embedding",
                                           got: positionalEmbedding.shape, expected: [max(grid, 1) * max(grid, 1) + 1, width])
        }
        trainedGrid = grid
        lnPreWeight = try weights.tensor("visual.ln_pre.weight", shape: [width])
        lnPreBias = try weights.tensor("visual.ln_pre.bias", shape: [width])
        let count = CLIPArchitecture.countBlocks(in: weights.keys, prefix: "visual.transformer.resblocks.")
        guard count > 0 else { throw CLIPLoadError.missingKey(file: weights.file, key: "visual.transformer.resblocks.0.ln_1.weight") }
        let heads = CLIPArchitecture.heads(forWidth: width)
        blocks = try (0..<count).map {
            try TransformerBlock(weights: weights, prefix: "visual.transformer.resblocks.\($0)", width: width, heads: heads,
                                 activation: activation)
        }
        lnPostWeight = try weights.tensor("visual.ln_post.weight", shape: [width])
        lnPostBias = try weights.tensor("visual.ln_post.bias", shape: [width])
        projection = try weights.tensor("visual.proj")
        try weights.expect("visual.proj", projection, [width, projection.rank == 2 ? max(projection.shape[1], 1) : 512])
    }

    // MARK: - Input checks

    /// Largest image side the tower takes (a 4096-pixel ViT-B/16 input is already 65k tokens).
    public static let maxImageSide = 4096

    /// Image sides `forward` accepts: at least one patch, at most `maxImageSide`.
    public var imageSideRange: ClosedRange<Int> { patchSize...max(patchSize, VisionTransformer.maxImageSide) }

    /// Throws unless images of `shape` [B, 3, H, W] can run through the tower: H and W in `imageSideRange`
    /// (pixels past the last whole patch are ignored), and the largest buffers of a forward pass within the
    /// memory budget (`MemoryBudget`).
    public func validate(imageShape shape: [Int]) throws {
        guard shape.count == 4, shape[0] >= 1, shape[1] == 3 else { throw CLIPInputError.imageShape(got: shape) }
        for side in shape[2...] where !imageSideRange.contains(side) {
            throw CLIPInputError.imageSide(side: side, allowed: imageSideRange, patchSize: patchSize)
        }
        try checkMemory(batch: shape[0], height: shape[2], width: shape[3])
    }

    /// Throws unless a method's configured square input side fits this tower: in `imageSideRange` (the error made by
    /// `wrap` from the reason, so each method reports it as its own configuration error) and one image's forward
    /// pass within the memory budget.
    public func checkInputSide(_ side: Int, wrap: (String) -> Error) throws {
        guard imageSideRange.contains(side) else {
            throw wrap("image size \(side) must be in \(imageSideRange.lowerBound)...\(imageSideRange.upperBound) for a vision tower with \(patchSize)-pixel patches")
        }
        try checkMemory(batch: 1, height: side, width: side)
    }

    /// The forward pass's big buffers for a batch: attention scores (one T x T block per core), packed qkv, the MLP
    /// hidden state and a few [B, T, W] activations.
    public func checkMemory(batch: Int, height: Int, width imageWidth: Int) throws {
        let tokens = 1 + (height / patchSize) * (imageWidth / patchSize)
        let hidden = blocks.first?.fcBias.count ?? 4 * width
        let bytes = MemoryBudget.sum([
            MemoryBudget.product([tokens, tokens, Parallel.workers, 4]),
            MemoryBudget.product([batch, tokens, 3 * width, 4]),
            MemoryBudget.product([batch, tokens, hidden, 4]),
            MemoryBudget.product([batch, tokens, width, 4 * 4]),
        ])
        try MemoryBudget.check(bytes: bytes, for: "a forward pass of \(batch) image(s) of \(height)x\(imageWidth) (\(tokens) tokens)")
    }

    // MARK: - Forward

    /// What a forward pass returns.
    public struct Output: Sendable {
        /// encode_image: ln_post(class token) · proj, unnormalised. [B, E]
        public var embedding: Tensor
        /// Outputs of the requested blocks (1-based), [B, T, W], class token first.
        public var layerTokens: [Int: Tensor]
        /// Last block's output [B, T, W] (before ln_post).
        public var finalTokens: Tensor
    }

    /// images: [B, 3, H, W] normalised pixels; H and W multiples of the patch size (extra pixels are ignored).
    public func forward(_ images: Tensor, outputLayers: Set<Int> = []) -> Output {
        var x = embed(images)
        var captured: [Int: Tensor] = [:]
        for (i, block) in blocks.enumerated() {
            x = block.forward(x, causal: false)
            if outputLayers.contains(i + 1) { captured[i + 1] = x }
        }
        return Output(embedding: pool(x), layerTokens: captured, finalTokens: x)
    }

    /// Patch embedding + class token + positional embedding + ln_pre: [B, 3, H, W] -> [B, 1 + gh*gw, W].
    public func embed(_ images: Tensor) -> Tensor {
        tokensBeforeLayerNorm(images).layerNorm(gamma: lnPreWeight, beta: lnPreBias)
    }

    /// Patch embedding + class token + positional embedding, before ln_pre: [B, 3, H, W] -> [B, 1 + gh*gw, W]
    /// (what WinCLIP picks window tokens from).
    public func tokensBeforeLayerNorm(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 3, "VisionTransformer: images must be [B, 3, H, W], got \(images.shape)")
        let b = images.shape[0], h = images.shape[2], w = images.shape[3], p = patchSize
        // Input code calls `validate(imageShape:)` first; this guard keeps a smaller-than-a-patch image from
        // reaching the kernels (an empty grid) in builds that keep preconditions.
        precondition(h >= p && w >= p, "VisionTransformer: image \(h)x\(w) is smaller than one \(p)-pixel patch")
        let gh = h / p, gw = w / p, t = 1 + gh * gw, width = self.width
        let patches = VisionTransformer.im2col(images, patch: p)             // [B*gh*gw, 3*p*p]
        let projected = patches.linear(weight: patchEmbedding)              // [B*gh*gw, W]
        let pos = positionalEmbedding(gridHeight: gh, gridWidth: gw)        // [T, W]
        let x = Tensor(uninitialized: [b, t, width])
        let dst = x.mutableData, src = projected.data, pe = pos.data, cls = classEmbedding.data
        for bi in 0..<b {
            let row = dst + bi * t * width
            for i in 0..<width { row[i] = cls[i] + pe[i] }
            for j in 1..<t {
                let s = src + (bi * (t - 1) + j - 1) * width
                for i in 0..<width { row[j * width + i] = s[i] + pe[j * width + i] }
            }
        }
        return x
    }

    /// ln_post on the class token, then the projection: [B, T, W] -> [B, E].
    public func pool(_ x: Tensor) -> Tensor {
        let b = x.shape[0]
        let cls = Tensor.concatenate((0..<b).map { x[$0].slice(rows: 0..<1) }).reshaped([b, width])
        return cls.layerNorm(gamma: lnPostWeight, beta: lnPostBias).matmul(projection)
    }

    /// ln_post then proj on every token: [B, T, W] -> [B, T, E] (AnomalyCLIP's projected patch tokens).
    public func projectTokens(_ x: Tensor) -> Tensor {
        x.layerNorm(gamma: lnPostWeight, beta: lnPostBias).matmul(projection)
    }

    /// The positional embedding for a gh x gw grid: the trained one, or its grid part resized.
    public func positionalEmbedding(gridHeight gh: Int, gridWidth gw: Int) -> Tensor {
        if gh == trainedGrid && gw == trainedGrid { return positionalEmbedding }
        let g = trainedGrid, w = width
        // [g*g, W] grid rows -> planar [W, g, g] -> resize -> back to rows.
        let grid = positionalEmbedding.slice(rows: 1..<(1 + g * g)).transposed().reshaped([w, g, g])
        let resized = Interpolation.resize(grid, height: gh, width: gw, mode: positionalResize)
        let rows = resized.reshaped([w, gh * gw]).transposed()
        return Tensor.concatenate([positionalEmbedding.slice(rows: 0..<1), rows])
    }

    /// Non-overlapping p x p patches, each flattened in (channel, row, column) order like conv weights.
    static func im2col(_ images: Tensor, patch p: Int) -> Tensor {
        let b = images.shape[0], h = images.shape[2], w = images.shape[3]
        let gh = h / p, gw = w / p, k = 3 * p * p
        let out = Tensor(uninitialized: [b * gh * gw, k])
        let src = images.data, dst = out.mutableData
        for bi in 0..<b {
            for gy in 0..<gh {
                for gx in 0..<gw {
                    var d = dst + ((bi * gh + gy) * gw + gx) * k
                    for c in 0..<3 {
                        for ky in 0..<p {
                            let s = src + ((bi * 3 + c) * h + gy * p + ky) * w + gx * p
                            d.update(from: s, count: p)
                            d += p
                        }
                    }
                }
            }
        }
        return out
    }
}
