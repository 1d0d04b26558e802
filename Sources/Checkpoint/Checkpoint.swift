import Foundation
import Tensor

/// The container format a checkpoint was read from.
public enum CheckpointFormat: String, Sendable {
    case safetensors
    /// `torch.save` zip archive (torch >= 1.6).
    case torchZip
    /// `torch.jit.save` archive of a scripted module (e.g. OpenAI's `ViT-B-16.pt`).
    case torchScript
}

/// A model checkpoint read natively (no Python): tensor entries mapped in place, plus string metadata.
public struct Checkpoint: Sendable {
    public let path: String
    public let format: CheckpointFormat
    /// Tensors by dotted name (nested dicts and TorchScript submodules are flattened with ".").
    public let tensors: [String: CheckpointTensor]
    /// safetensors `__metadata__`, or the non-tensor leaves of a torch checkpoint (`"epoch": "3"`).
    public let metadata: [String: String]

    /// Tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// The file name used in error messages.
    public var fileName: String { CheckpointError.displayName(path) }

    // MARK: - Loading

    /// Reads a checkpoint, sniffing its format: zip (`PK\x03\x04`) -> torch zip or TorchScript (`code/` entries),
    /// a bare pickle -> legacy-format error, a JSON header after 8 bytes (or a `.safetensors` name) -> safetensors.
    public static func load(path: String) throws -> Checkpoint {
        let fileName = CheckpointError.displayName(path)
        let mapping: MappedFile
        do { mapping = try MappedFile(path: path) } catch let error as FileMappingError {
            throw CheckpointError.io(file: fileName, reason: error.reason)
        }
        let bytes = mapping.bytes
        let head = Array(bytes.prefix(4))
        if head == [0x50, 0x4B, 0x03, 0x04] || head == [0x50, 0x4B, 0x05, 0x06] {
            let (format, tensors, metadata) = try TorchArchiveReader.read(mapping: mapping, fileName: fileName)
            return Checkpoint(path: path, format: format, tensors: tensors, metadata: metadata)
        }
        if head.count >= 2, head[0] == 0x80, (2...5).contains(head[1]) {
            throw CheckpointError.legacyTorchFormat(file: fileName)  // a bare pickle stream
        }
        // a truncated .safetensors file is still reported as a corrupt safetensors file, not an unknown one
        if SafetensorsReader.looksLikeSafetensors(bytes) || path.hasSuffix(".safetensors") {
            let (tensors, metadata) = try SafetensorsReader.read(mapping: mapping, fileName: fileName)
            return Checkpoint(path: path, format: .safetensors, tensors: tensors, metadata: metadata)
        }
        throw CheckpointError.unrecognizedFormat(file: fileName)
    }

    // MARK: - Access

    /// The entry named `name`, or an error naming the key.
    public func entry(_ name: String) throws -> CheckpointTensor {
        guard let entry = tensors[name] else { throw CheckpointError.missingTensor(file: fileName, name: name) }
        return entry
    }

    /// The tensor named `name` as Float32 (zero-copy when possible).
    public func tensor(_ name: String) throws -> Tensor { try entry(name).toTensor() }
}
