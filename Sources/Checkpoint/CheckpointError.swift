import Foundation

/// Why a checkpoint could not be read or written. Every message starts with the file name.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, mapped, written or renamed.
    case io(file: String, reason: String)
    /// The file is none of the formats this target reads.
    case unrecognizedFormat(file: String)
    /// A pre-1.6 `torch.save` file (a bare pickle stream, not a zip).
    case legacyTorchFormat(file: String)
    /// The file claims a known format but its bytes are inconsistent or truncated.
    case corrupt(file: String, reason: String)
    /// A valid file using a feature this reader does not implement (compression, dtype, opcode).
    case unsupported(file: String, reason: String)
    /// The pickle names a global outside the allow-list; nothing is ever executed.
    case forbiddenGlobal(file: String, global: String)
    /// A tensor asked for by name is not in the checkpoint.
    case missingTensor(file: String, name: String)
    /// A tensor exists but cannot be used the way it was asked for.
    case invalidTensor(file: String, name: String, reason: String)

    public var file: String {
        switch self {
        case .io(let f, _), .unrecognizedFormat(let f), .legacyTorchFormat(let f), .corrupt(let f, _),
             .unsupported(let f, _), .forbiddenGlobal(let f, _), .missingTensor(let f, _),
             .invalidTensor(let f, _, _):
            return f
        }
    }

    public var description: String {
        switch self {
        case .io(let f, let reason): return "\(f): \(reason)"
        case .unrecognizedFormat(let f): return "\(f): not a safetensors, torch zip or TorchScript file"
        case .legacyTorchFormat(let f):
            return "\(f): legacy torch.save format (not a zip); re-save with torch>=1.6"
        case .corrupt(let f, let reason): return "\(f): corrupt checkpoint: \(reason)"
        case .unsupported(let f, let reason): return "\(f): unsupported: \(reason)"
        case .forbiddenGlobal(let f, let global):
            return "\(f): pickle references '\(global)', which is not on the allow-list of torch globals (nothing was executed)"
        case .missingTensor(let f, let name): return "\(f): no tensor named '\(name)'"
        case .invalidTensor(let f, let name, let reason): return "\(f): tensor '\(name)': \(reason)"
        }
    }

    /// The last path component, used to name files in messages.
    static func displayName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }
}
