import FileAccess
import Foundation
import Tensor

/// Where a model's MLP activation was decided. The activation cannot be read from tensors.
public enum ActivationSource: Equatable, Sendable {
    case override
    case openCLIPConfig(String)
    case huggingFaceConfig(String)
    case modelMetadata
    case torchScript
    case architecture
    case assumedDefault

    /// A one-line notice for the user when the activation was a guess, else nil.
    public var notice: String? {
        self == .assumedDefault
            ? "note: the checkpoint does not record its activation; assuming QuickGELU (OpenAI CLIP). Pass --activation gelu for OpenCLIP-trained models."
            : nil
    }

    /// A config file beside the checkpoint, nil when there is none (a FIFO or device there is an error, not a hang).
    static func configBytes(_ path: String) throws -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do { return try ReadableFile.read(path, limit: ReadableFile.textLimit) } catch let error as FileAccessError {
            throw CLIPLoadError.badConfig(file: path, reason: error.reason)
        }
    }

    /// Decides the activation: override > ClipAD metadata > config beside the checkpoint > TorchScript (OpenAI) > QuickGELU.
    static func resolve(checkpointPath: String, override: Activation?, isTorchScript: Bool,
                        metadata: [String: String]) throws -> (Activation, ActivationSource) {
        if let override { return (override, .override) }
        if let recorded = metadata["activation"], let a = Activation(rawValue: recorded) { return (a, .modelMetadata) }
        let dir = URL(fileURLWithPath: checkpointPath).deletingLastPathComponent()
        let openCLIP = dir.appendingPathComponent("open_clip_config.json")
        if let data = try configBytes(openCLIP.path) {
            guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CLIPLoadError.badConfig(file: openCLIP.path, reason: "not a JSON object")
            }
            let cfg = (root["model_cfg"] as? [String: Any]) ?? root
            let quick = (cfg["quick_gelu"] as? Bool) ?? false
            return (quick ? .quickGELU : .gelu, .openCLIPConfig(openCLIP.path))
        }
        let hf = dir.appendingPathComponent("config.json")
        if let data = try configBytes(hf.path),
           let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           root["vision_config"] != nil || root["text_config"] != nil {
            // transformers' CLIPConfig default hidden_act is quick_gelu, so configs often omit it.
            let act = ((root["vision_config"] as? [String: Any])?["hidden_act"] as? String)
                ?? ((root["text_config"] as? [String: Any])?["hidden_act"] as? String)
            switch act {
            case "quick_gelu": return (.quickGELU, .huggingFaceConfig(hf.path))
            case "gelu": return (.gelu, .huggingFaceConfig(hf.path))
            case nil: return (.quickGELU, .huggingFaceConfig(hf.path))
            case let other?: throw CLIPLoadError.badConfig(file: hf.path, reason: "unsupported hidden_act '\(other)' (quick_gelu or gelu)")
            }
        }
        if isTorchScript { return (.quickGELU, .torchScript) }
        return (.quickGELU, .assumedDefault)
    }
}
