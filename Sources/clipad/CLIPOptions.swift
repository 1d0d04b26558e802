import ArgumentParser
import CLIP
import Foundation
import Tensor

extension Activation: ExpressibleByArgument {}

/// Options shared by every command that loads a CLIP model.
struct CLIPOptions: ParsableArguments {
    @Option(name: .long, help: "CLIP checkpoint: safetensors, torch.save .pt/.pth/.bin, or an OpenAI TorchScript archive.")
    var clip: String?

    @Option(name: .long, help: "MLP activation (quick-gelu | gelu); overrides what the checkpoint's config says.")
    var activation: Activation?

    /// Loads the model, printing the activation notice to standard error when the activation was guessed.
    func loadModel() throws -> CLIPModel {
        guard let clip else { throw ValidationError("--clip PATH is required") }
        let model = try CLIPModel.load(path: clip, activation: activation)
        if let notice = model.activationSource.notice { printError(notice) }
        return model
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write((line + "\n").data(using: .utf8) ?? Data())
}
