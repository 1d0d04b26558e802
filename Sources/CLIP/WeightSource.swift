import Tensor

/// Errors building a CLIP model from a checkpoint.
public enum CLIPLoadError: Error, CustomStringConvertible {
    case missingKey(file: String, key: String)
    case wrongShape(file: String, key: String, got: [Int], expected: [Int])
    case unknownKeys(file: String, keys: [String])
    case unsupported(file: String, reason: String)
    case badConfig(file: String, reason: String)

    public var description: String {
        switch self {
        case let .missingKey(file, key): return "\(file): missing tensor '\(key)'"
        case let .wrongShape(file, key, got, expected): return "\(file): tensor '\(key)' has shape \(got), expected \(expected)"
        case let .unknownKeys(file, keys):
            let shown = keys.sorted().prefix(5).joined(separator: ", ")
            return "\(file): \(keys.count) unexpected tensor(s): \(shown)\(keys.count > 5 ? ", ..." : "")"
        case let .unsupported(file, reason): return "\(file): \(reason)"
        case let .badConfig(file, reason): return "\(file): \(reason)"
        }
    }
}

/// Named weights in OpenAI/OpenCLIP key layout, with bookkeeping for strict loading:
/// every key must be used by the model (or be a known extra), and every key the model asks for must exist.
public final class WeightSource {
    public let file: String
    private var tensors: [String: Tensor]
    private var used = Set<String>()

    public init(file: String, tensors: [String: Tensor]) {
        self.file = file
        self.tensors = tensors
    }

    public var keys: Dictionary<String, Tensor>.Keys { tensors.keys }
    public func contains(_ key: String) -> Bool { tensors[key] != nil }

    public func tensor(_ key: String) throws -> Tensor {
        guard let t = tensors[key] else { throw CLIPLoadError.missingKey(file: file, key: key) }
        used.insert(key)
        return t
    }

    public func tensor(_ key: String, shape: [Int]) throws -> Tensor {
        let t = try tensor(key)
        try expect(key, t, shape)
        return t
    }

    /// A linear layer's weight, checked to be `shape` ([out, in]), as the input-major `LinearWeight`. The source
    /// lets go of the PyTorch-layout tensor, so a weight held in memory (converted from fp16, random) is freed once
    /// transposed instead of being resident twice; a mapped one has its pages released by `LinearWeight`.
    public func linearWeight(_ key: String, shape: [Int]) throws -> LinearWeight {
        let weight = try tensor(key, shape: shape)
        tensors[key] = nil
        return LinearWeight(weight)
    }

    public func optionalTensor(_ key: String) -> Tensor? {
        guard let t = tensors[key] else { return nil }
        used.insert(key)
        return t
    }

    public func expect(_ key: String, _ t: Tensor, _ shape: [Int]) throws {
        if t.shape != shape { throw CLIPLoadError.wrongShape(file: file, key: key, got: t.shape, expected: shape) }
    }

    /// Throws when a key was never used, unless it matches one of `ignorable` prefixes/names.
    public func checkAllUsed(ignoring ignorable: [String]) throws {
        let unused = tensors.keys.filter { key in
            !used.contains(key) && !ignorable.contains { key == $0 || key.hasPrefix($0 + ".") }
        }
        if !unused.isEmpty { throw CLIPLoadError.unknownKeys(file: file, keys: Array(unused)) }
    }
}
