import CLIP
import Foundation
import Tensor

/// Loads CLIP checkpoints for detectors, once per (path, activation): detectors that use the same checkpoint
/// (a server's model repository) share one loaded copy.
public final class CLIPLoader: @unchecked Sendable {
    public static let shared = CLIPLoader()

    private let lock = NSLock()
    private var cache: [String: (model: CLIPModel, fingerprint: String)] = [:]

    public init() {}

    /// The activation is `requested`, else `recorded` (a model file's), else the checkpoint's own config, else
    /// `fallback` (the method's backbones' activation, with a note) instead of the engine's QuickGELU guess.
    public func load(path: String, requested: Activation?, recorded: Activation?, fallback: Activation?,
                     notice: (String) -> Void) throws -> (model: CLIPModel, fingerprint: String) {
        let key = "\(JSONFile.absolute(path))|\(requested?.rawValue ?? "")|\(recorded?.rawValue ?? "")|\(fallback?.rawValue ?? "")"
        lock.lock()
        if let hit = cache[key] { lock.unlock(); return hit }
        lock.unlock()
        var model = try CLIPModel.load(path: path, activation: requested ?? recorded)
        if model.activationSource == .assumedDefault, let fallback, fallback != model.activation {
            notice("note: \(path) does not record its activation; using \(fallback.rawValue) (this method's OpenCLIP backbones). Pass --activation to override.")
            model = try CLIPModel.load(path: path, activation: fallback)
        } else if let text = model.activationSource.notice {
            notice(text)
        }
        let loaded = (model, try CheckpointFingerprint.of(path: path))
        lock.lock()
        cache[key] = loaded
        lock.unlock()
        return loaded
    }
}
