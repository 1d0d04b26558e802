import AnomalyCLIP
import ArgumentParser
import CLIP
import Foundation

/// `clipad export`: learned prompts in another tool's file layout (the official AnomalyCLIP `.pth`).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write prompts as the official AnomalyCLIP .pth ({\"prompt_learner\": state_dict}) for its test.py.")

    enum Method: String, ExpressibleByArgument, CaseIterable { case anomalyclip }

    @Option(help: "Method: \(Method.allCases.map(\.rawValue).joined(separator: ", ")).") var method: Method
    @OptionGroup var clipOptions: CLIPOptions
    @Option(help: "Prompt file: a ClipAD .safetensors (clipad train) or an official .pth.") var prompts: String
    @Option(help: "Output .pth file (written atomically).") var output: String

    func validate() throws {
        if clipOptions.clip == nil { throw ValidationError("--clip PATH is required (the token-embedding buffers come from it)") }
        if output.isEmpty { throw ValidationError("--output must name a file") }
    }

    func run() throws {
        let model = try clipOptions.loadModel()
        let (parameters, _) = try PromptParameters.load(path: prompts)
        // The prompt texts depend only on n_ctx; the deep-prompt settings follow the file.
        var config = AnomalyCLIPConfiguration()
        config.contextLength = parameters.contextLength
        config.deepPromptDepth = parameters.deepPrompts.count + 1
        config.deepPromptTokens = parameters.deepPrompts.first?.shape[0] ?? config.deepPromptTokens
        let encoder = PromptTextEncoder(model: model, configuration: config, tokenizer: try CLIPTokenizer.shared())
        try parameters.exportOfficial(to: output, encoder: encoder)
        print("wrote \(output): official AnomalyCLIP prompt_learner (n_ctx \(parameters.contextLength), "
              + "\(parameters.deepPrompts.count) deep prompt(s), width \(parameters.width))")
    }
}
