import Foundation
import ImageIO
import Tensor

/// CLIP image preprocessing: decode, resize with Pillow's bicubic filter, optional centre crop, normalise.
public struct ImagePreprocessor: Sendable {
    public enum Resize: String, Sendable, CaseIterable {
        /// OpenAI / open_clip eval: shortest side to `size` (torchvision Resize(int)), then centre crop.
        case shortestSideCenterCrop = "shortest"
        /// AnomalyCLIP / PromptAD: the whole image squashed to size x size (no aspect keep).
        case square
    }

    public static let openAIMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public static let openAIStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

    public var size: Int
    public var resize: Resize
    public var mean = ImagePreprocessor.openAIMean
    public var std = ImagePreprocessor.openAIStd

    public init(size: Int, resize: Resize) {
        self.size = size
        self.resize = resize
    }

    /// Output sides accepted: at least 1, at most the largest side the vision tower takes.
    public static let sizeRange = 1...VisionTransformer.maxImageSide

    /// Throws unless `size` is in `sizeRange` (and at least `patchSize`, the model input's smallest side).
    public func validate(patchSize: Int = 1) throws {
        let allowed = max(1, patchSize)...ImagePreprocessor.sizeRange.upperBound
        guard allowed.contains(size) else {
            throw CLIPInputError.imageSide(side: size, allowed: allowed, patchSize: max(1, patchSize))
        }
        guard mean.count == 3, std.count == 3, (mean + std).allSatisfy(\.isFinite), !std.contains(0) else {
            throw CLIPInputError.normalisation(mean: mean, std: std)
        }
    }

    /// Throws unless `image` can be preprocessed: `validate()`, a non-empty image, and for the shortest-side
    /// resize a long side within `PillowResize.maxSide` (checked before anything is allocated).
    public func validate(_ image: Image) throws {
        try validate()
        switch resize {
        case .square: try PillowResize.validate(width: size, height: size, what: "square resize")
        case .shortestSideCenterCrop: try image.validateShortestSide(to: size)
        }
    }

    /// `tensor(from:)` after `validate(_:)`: what input-driven callers use.
    public func preprocess(_ image: Image) throws -> Tensor {
        try validate(image)
        return tensor(from: image)
    }

    /// The resized RGB image before normalisation (also what overlays are drawn on).
    /// Note: images with translucent alpha are flattened by dropping alpha first; Pillow resizes RGBA premultiplied.
    public func resized(_ image: Image) -> Image {
        let rgb = image.rgb()
        switch resize {
        case .square:
            return PillowResize.resize(rgb, width: size, height: size, filter: .bicubic)
        case .shortestSideCenterCrop:
            return rgb.resizedShortestSideCenterCropped(to: size, filter: .bicubic)
        }
    }

    /// [3, size, size] normalised: (pixel / 255 - mean) / std per channel, in Float32 like ToTensor + Normalize.
    /// The size and image must pass `validate(_:)` (input-driven callers use `preprocess`).
    public func tensor(from image: Image) -> Tensor {
        precondition(ImagePreprocessor.sizeRange.contains(size), "ImagePreprocessor: size \(size) outside \(ImagePreprocessor.sizeRange)")
        let r = resized(image)
        let out = Tensor(uninitialized: [3, r.height, r.width])
        let dst = out.mutableData, plane = r.width * r.height
        r.pixels.withUnsafeBufferPointer { src in
            for c in 0..<3 {
                let m = mean[c], s = std[c]
                for i in 0..<plane { dst[c * plane + i] = (Float(src[3 * i + c]) / 255 - m) / s }
            }
        }
        return out
    }

    public func load(path: String) throws -> Tensor { try preprocess(try ImageDecoder.decodeRGB(path: path)) }

    /// A batch [N, 3, size, size] from decoded images.
    public func batch(_ images: [Image]) -> Tensor {
        Tensor.concatenate(images.map { tensor(from: $0).reshaped([1, 3, size, size]) })
    }
}
