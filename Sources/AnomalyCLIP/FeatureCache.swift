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

    /// What every entry must look like; checked on read when set (a damaged or foreign cache file is an error
    /// naming the file and tensor, not a crash in the loss).
    public struct ExpectedShapes: Sendable, Equatable {
        public var embedding: Int
        public var patchTokens: Int
        public var layers: [Int]
        public var maskSide: Int
        public init(embedding: Int, patchTokens: Int, layers: [Int], maskSide: Int) {
            self.embedding = embedding; self.patchTokens = patchTokens; self.layers = layers; self.maskSide = maskSide
        }
    }
    public var expectedShapes: ExpectedShapes?

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
        let entry = Entry(global: try checkpoint.tensor("global"), patches: patches, mask: try checkpoint.tensor("mask"))
        if let expected = expectedShapes { try check(entry, against: expected, file: path) }
        return entry
    }

    func check(_ entry: Entry, against expected: ExpectedShapes, file: String) throws {
        func expect(_ name: String, _ got: [Int]?, _ shape: [Int]) throws {
            guard got == shape else {
                throw AnomalyCLIPError.badCacheFile(file: file, reason: "tensor '\(name)' has shape \(got.map { "\($0)" } ?? "(missing)"), expected \(shape); delete the cache folder")
            }
        }
        try expect("global", entry.global.shape, [expected.embedding])
        for layer in expected.layers {
            try expect("patches.\(layer)", entry.patches[layer]?.shape, [expected.patchTokens, expected.embedding])
        }
        try expect("mask", entry.mask.shape, [expected.maskSide, expected.maskSide])
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
