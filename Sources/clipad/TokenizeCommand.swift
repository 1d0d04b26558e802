import ArgumentParser
import CLIP

/// `clipad tokenize TEXT...`: CLIP token ids, one JSON array per text.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Print CLIP BPE token ids (SOT ... EOT, no padding), one JSON array per text.")

    @Argument(help: "Texts to tokenize.") var texts: [String]
    @Option(name: .customLong("context-length"), help: "Truncate to this many tokens (the last becomes EOT).")
    var contextLength: Int = 77

    func validate() throws {
        if texts.isEmpty { throw ValidationError("give at least one TEXT") }
        if contextLength < 2 { throw ValidationError("--context-length must be at least 2") }
    }

    func run() throws {
        let tokenizer = try CLIPTokenizer.shared()
        for text in texts {
            print("[" + tokenizer.tokenize(text, contextLength: contextLength).map(String.init).joined(separator: ", ") + "]")
        }
    }
}
