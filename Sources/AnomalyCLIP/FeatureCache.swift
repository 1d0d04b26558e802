import Checkpoint
import Foundation
import Tensor

/// On-disk cache of the frozen image tower's output per training image (global + patch features + resized mask),
/// so every epoch after the first costs only the text tower and the losses. One safetensors file per image,
/// written atomically, so an interrupted first epoch resumes where it stopped. Features are stored as Float16
/// by default (masks are 0/1, exact in Float16).
public struct FeatureCache {
    public let directory: String
    /// Identifies everything the features depend on besides the image (model, size, layers, DPAM blocks).
    public let key: String
    public let storage: DType

    public init(directory: String, key: String, storage: DType = .float16) throws {
        self.directory = directory
        self.key = key
        self.storage = storage
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public struct Entry {
        public var global: Tensor            // [E]
        public var patches: [Int: Tensor]    // layer -> [g*g, E]
        public var mask: Tensor              // [S, S]
    }

    /// The cache file for an image: a hash of the key, the path, its size and modification time.
    public func file(for imagePath: String) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: imagePath)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let name = FeatureCache.fnv1a("\(key)|\(imagePath)|\(size)|\(modified)")
        return (directory as NSString).appendingPathComponent(String(format: "%016llx.safetensors", name))
    }

    public func load(imagePath: String) throws -> Entry? {
        let path = file(for: imagePath)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let checkpoint = try Checkpoint.load(path: path)
        var patches: [Int: Tensor] = [:]
        for name in checkpoint.names where name.hasPrefix("patches.") {
            if let layer = Int(name.dropFirst("patches.".count)) { patches[layer] = try checkpoint.tensor(name) }
        }
        return Entry(global: try checkpoint.tensor("global"), patches: patches, mask: try checkpoint.tensor("mask"))
    }

    public func store(_ entry: Entry, imagePath: String) throws {
        var tensors = ["global": entry.global, "mask": entry.mask]
        for (layer, t) in entry.patches { tensors["patches.\(layer)"] = t }
        try SafetensorsWriter.write(tensors, metadata: ["image": imagePath, "key": key], to: file(for: imagePath), dtype: storage)
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
