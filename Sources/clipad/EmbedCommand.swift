import ArgumentParser
import Checkpoint
import CLIP
import Evaluation
import Foundation
import Tensor

/// `clipad embed`: unnormalised encode_text / encode_image outputs as JSON lines.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print CLIP embeddings (unnormalised encode_text / encode_image), one JSON object per input.")

    @OptionGroup var clipOptions: CLIPOptions
    @Option(name: .customLong("image-size"), help: "Input side for images (default: the model's own).") var imageSize: Int?
    @Option(name: .long, parsing: .upToNextOption, help: "Texts to embed.") var text: [String] = []
    @Option(name: .long, parsing: .upToNextOption, help: "Image files to embed (shortest side + centre crop, OpenAI style).")
    var image: [String] = []

    func validate() throws {
        if clipOptions.clip == nil { throw ValidationError("--clip PATH is required") }
        if text.isEmpty == image.isEmpty { throw ValidationError("give either --text T... or --image FILE...") }
        if let s = imageSize, s < 1 { throw ValidationError("--image-size must be positive") }
    }

    func run() throws {
        let model = try clipOptions.loadModel()
        if !text.isEmpty {
            let tokenizer = try CLIPTokenizer.shared()
            let ids = tokenizer.tokenizePadded(text, contextLength: model.text.contextLength).map { $0.map(Int.init) }
            let embeddings = try model.encodeText(validating: ids)
            for (i, t) in text.enumerated() { printLine(input: t, embeddings[i]) }
        } else {
            let preprocessor = ImagePreprocessor(size: imageSize ?? model.vision.nativeImageSize, resize: .shortestSideCenterCrop)
            for path in image {
                let pixels = try preprocessor.load(path: path)
                let embedding = try model.encodeImage(validating: pixels.reshaped([1] + pixels.shape))
                printLine(input: path, embedding[0])
            }
        }
    }

    func printLine(input: String, _ embedding: Tensor) {
        let values = embedding.scalars.map { "\($0)" }.joined(separator: ", ")
        print("{\"input\": \(jsonString(input)), \"embedding\": [\(values)]}")
    }
}
