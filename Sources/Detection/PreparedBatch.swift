import Tensor

/// The inputs of one forward pass, decoded and preprocessed by `BatchPreparation`: a span of consecutive inputs from
/// `start`, each either a row of `pixels` or the error that input gave before the model (unreadable file, bad size).
struct PreparedBatch: Sendable {
    struct PreparedImage: Sendable {
        let name: String
        /// The image's own size, for the prediction.
        let size: (width: Int, height: Int)
        let preprocessSeconds: Double
    }

    enum Entry: Sendable {
        case row(Int)
        case failed(any Error)
    }

    /// Index of the first input the batch covers.
    let start: Int
    /// One per input of the span, in order.
    let entries: [Entry]
    /// The rows of `pixels`, in order.
    let images: [PreparedImage]
    /// [images.count, 3, S, S]; nil when no input of the span could be prepared.
    let pixels: Tensor?
}
