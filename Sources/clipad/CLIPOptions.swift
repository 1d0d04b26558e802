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

extension CLIPOptions {
    /// Loads the model for a method whose backbones use a known activation (PromptAD and WinCLIP: OpenCLIP LAION
    /// models, GELU): --activation, else what the model file recorded, else the checkpoint's own config, else
    /// `fallback` (with a note) instead of the engine's QuickGELU guess.
    func loadModel(recorded: Activation? = nil, otherwise fallback: Activation) throws -> CLIPModel {
        guard let path = clip else { throw ValidationError("--clip PATH is required") }
        let loaded = try CLIPModel.load(path: path, activation: activation ?? recorded)
        guard loaded.activationSource == .assumedDefault, fallback != loaded.activation else { return loaded }
        printError("note: \(path) does not record its activation; using \(fallback.rawValue) (this method's OpenCLIP backbones). Pass --activation to override.")
        return try CLIPModel.load(path: path, activation: fallback)
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write((line + "\n").data(using: .utf8) ?? Data())
}
