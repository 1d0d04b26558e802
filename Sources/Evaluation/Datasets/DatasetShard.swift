import Checkpoint
import Foundation

/// One of N deterministic parts of a test split, for an evaluation spread over machines (`eval --shard I/N`,
/// I in 0..<N, as a Slurm array index or a Kubernetes JOB_COMPLETION_INDEX counts): sample j (0-based) of a class's
/// sorted sample list goes to shard j mod N. Readers list samples in sorted path order, so the assignment does not
/// depend on the order the file system returns files in; round-robin keeps every shard's share of each class and
/// defect type within one image of 1/N.
public struct DatasetShard: Codable, Equatable, Sendable {
    public let index: Int
    public let count: Int

    public struct ShardError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw ShardError(description: "--shard \(index)/\(count): expected I/N with N >= 1 and 0 <= I < N")
        }
        self.index = index
        self.count = count
    }

    /// Parses "I/N".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let i = parts[0], let n = parts[1] else {
            throw ShardError(description: "--shard '\(text)': expected I/N (e.g. 0/4 for the first of four shards)")
        }
        try self.init(index: i, count: n)
    }

    /// This shard's samples of each class (classes left with none are dropped).
    public func select(_ samples: [String: [DatasetSample]]) -> [String: [DatasetSample]] {
        samples.compactMapValues { list in
            let mine = list.enumerated().filter { $0.offset % count == index }.map(\.element)
            return mine.isEmpty ? nil : mine
        }
    }

    /// `shard.json`, written beside a shard's predictions so `clipad metrics` can check that the shards it merges are
    /// one complete set.
    public static let fileName = "shard.json"

    public func write(to directory: String, images: Int) throws {
        let text = "{\"index\": \(index), \"count\": \(count), \"images\": \(images)}\n"
        try AtomicFileWriter.write(Data(text.utf8), to: FileTree.join(directory, Self.fileName))
    }

    /// The shard recorded in a predictions folder, nil when there is none (an unsharded `predict`/`eval`).
    public static func read(directory: String) throws -> DatasetShard? {
        let path = FileTree.join(directory, fileName)
        guard FileTree.isFile(path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let i = object["index"] as? Int, let n = object["count"] as? Int else {
            throw ShardError(description: "\(path): expected {\"index\": I, \"count\": N}")
        }
        do { return try DatasetShard(index: i, count: n) } catch { throw ShardError(description: "\(path): \(error)") }
    }

    /// Checks that the shards of several prediction folders are one complete set: the same N, each index once.
    /// Folders without a `shard.json` are not checked here (their images are, by `PredictionSet`).
    public static func checkComplete(_ shards: [(directory: String, shard: DatasetShard)]) throws {
        guard let n = shards.first?.shard.count else { return }
        if let odd = shards.first(where: { $0.shard.count != n }) {
            throw ShardError(description: "\(odd.directory): shard \(odd.shard.index)/\(odd.shard.count) does not belong with \(shards[0].directory) (shard \(shards[0].shard.index)/\(n))")
        }
        var seen: [Int: String] = [:]
        for s in shards {
            if let other = seen[s.shard.index] {
                throw ShardError(description: "\(s.directory) and \(other) are both shard \(s.shard.index)/\(n)")
            }
            seen[s.shard.index] = s.directory
        }
        let missing = (0..<n).filter { seen[$0] == nil }
        if !missing.isEmpty {
            throw ShardError(description: "shard(s) \(missing.map { "\($0)/\(n)" }.joined(separator: ", ")) missing from --predictions")
        }
    }
}
