/// Why input handed to a loaded CLIP model (token ids, image tensors, sizes) cannot run through it.
public enum CLIPInputError: Error, CustomStringConvertible, Equatable {
    /// A token id outside the text tower's vocabulary (a small or foreign vocabulary fed CLIP tokenizer ids).
    case tokenOutOfVocabulary(id: Int, text: Int, position: Int, vocabularySize: Int)
    /// A text longer than the positional embedding, or an empty one.
    case textLength(length: Int, text: Int, contextLength: Int)
    /// Image input that is not [B, 3, H, W] with B >= 1.
    case imageShape(got: [Int])
    /// An image side outside what the vision tower can take.
    case imageSide(side: Int, allowed: ClosedRange<Int>, patchSize: Int)
    /// Normalisation constants that are not three finite means and three finite, non-zero deviations.
    case normalisation(mean: [Float], std: [Float])

    public var description: String {
        switch self {
        case let .tokenOutOfVocabulary(id, text, position, size):
            return "token id \(id) (text \(text), position \(position)) is outside the text tower's vocabulary of \(size) ids (the CLIP tokenizer's ids go up to \(CLIPTokenizer.vocabularySize - 1); wrong text tower?)"
        case let .textLength(length, text, context):
            return "text \(text) has \(length) tokens, expected 1...\(context) (the text tower's context length)"
        case let .imageShape(got):
            return "images have shape \(got), expected [B, 3, H, W] with B >= 1"
        case let .imageSide(side, allowed, patch):
            return "image side \(side) is outside \(allowed.lowerBound)...\(allowed.upperBound) (at least one \(patch)-pixel patch, at most \(allowed.upperBound) pixels)"
        case let .normalisation(mean, std):
            return "normalisation mean \(mean) / std \(std): expected three finite means and three finite, non-zero deviations"
        }
    }
}
