import ArgumentParser
import CLIP
import Detection
import Foundation
import Tensor

extension Activation: ExpressibleByArgument {}

/// Options shared by every command that loads a CLIP model.
struct CLIPOptions: ParsableArguments {
    @Option(name: .long, help: "CLIP checkpoint: safetensors, torch.save .pt/.pth/.bin, or an OpenAI TorchScript archive.")
    var clip: String?

    @Option(name: .long, help: "MLP activation (quick-gelu | gelu); overrides what the checkpoint's config says.")
    var activation: Activation?

    /// Loads the model (notices go to standard error); `method` picks the activation assumed when nothing records one.
    func loadModel(for method: DetectionMethod? = nil) throws -> CLIPModel {
        guard let clip else { throw ValidationError("--clip PATH is required") }
        return try CLIPLoader.shared.load(path: clip, requested: activation, recorded: nil,
                                          fallback: method.flatMap { MethodDefaults.shared.activation($0) },
                                          notice: printError).model
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write((line + "\n").data(using: .utf8) ?? Data())
}
