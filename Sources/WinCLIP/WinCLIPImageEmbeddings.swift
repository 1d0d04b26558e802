import CLIP
import Tensor

/// What WinCLIP takes from the vision tower for a batch of images (anomalib `WinClipModel.encode_image`):
/// - image: ln_post(class token) · proj, [N, E];
/// - windows: per scale, the class token of the tower run on [class token + the window's patch tokens] (tokens taken
///   after the positional embedding, before ln_pre — the input of open_clip's `patch_dropout`), ln_post · proj,
///   [N, windows, E];
/// - patches: ln_post(final patch tokens), NOT projected, [N, P, W].
public struct WinCLIPImageEmbeddings: Sendable {
    public var image: Tensor
    public var windows: [Tensor]
    public var patches: Tensor

    /// images: [N, 3, S, S] normalised pixels.
    public static func compute(_ images: Tensor, vision: VisionTransformer, scales: [WindowMasks]) -> WinCLIPImageEmbeddings {
        let n = images.shape[0], w = vision.width
        let tokens = vision.tokensBeforeLayerNorm(images)   // [N, T, W]
        let t = tokens.shape[1]
        var x = tokens.layerNorm(gamma: vision.lnPreWeight, beta: vision.lnPreBias)
        for block in vision.blocks { x = block.forward(x, causal: false) }
        let normed = x.layerNorm(gamma: vision.lnPostWeight, beta: vision.lnPostBias)
        let patches = normed.droppingClassToken()
        let windows = scales.map { windowEmbeddings(tokens, vision: vision, masks: $0) }
        return WinCLIPImageEmbeddings(image: vision.pool(x), windows: windows, patches: patches)
    }

    /// Every window of every image as one batch of short sequences through the whole tower: [N, windows, E].
    static func windowEmbeddings(_ tokens: Tensor, vision: VisionTransformer, masks: WindowMasks) -> Tensor {
        let n = tokens.shape[0], t = tokens.shape[1], w = tokens.shape[2]
        let count = masks.windows.count, length = 1 + masks.kernel * masks.kernel
        let sequences = Tensor(uninitialized: [n * count, length, w])
        let src = tokens.data, dst = sequences.mutableData
        for i in 0..<n {
            for (k, window) in masks.windows.enumerated() {
                let out = dst + ((i * count + k) * length) * w
                out.update(from: src + i * t * w, count: w)                 // class token
                for (j, patch) in window.enumerated() {
                    (out + (1 + j) * w).update(from: src + (i * t + 1 + patch) * w, count: w)
                }
            }
        }
        var x = sequences.layerNorm(gamma: vision.lnPreWeight, beta: vision.lnPreBias)
        for block in vision.blocks { x = block.forward(x, causal: false) }
        return vision.pool(x).reshaped([n, count, vision.outputDim])
    }
}
